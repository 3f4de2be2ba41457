/**
 * The single-run training step of the benches (bench/train.ts, bench/attention.ts): seed-0 parameters, the
 * SOTU batches of seed 0, the trainer's step scalars; steps are submitted without waiting.
 * @module
 */
import { adamScalars, stepSeed } from "../lib/engine/train.ts";
import { initParams } from "../lib/models/llama/config.ts";
import { type GpuModel, packBatch } from "../lib/models/llama/model.ts";
import type { Runtime } from "../lib/gpu/runtime.ts";
import type { ModelConfig } from "../lib/engine/api.ts";
import { loadSource } from "../lib/data/sources.ts";
import { BatchSampler } from "../lib/data/batches.ts";

/**
 * Sets `model`'s parameters to the seed-0 init, runs two warm-up steps (the first runs touch all memory) and
 * waits for them; returns the step function `step(s)`, which writes step `s`'s batch and scalars and submits
 * one training step (the caller awaits the queue).
 */
export async function warmSingleRun(
  rt: Runtime,
  model: GpuModel,
  cfg: ModelConfig,
  batch: number,
): Promise<(s: number) => void> {
  model.setParams(initParams(cfg, 0));
  const sampler = new BatchSampler(loadSource("sotu").train, cfg.context, batch, 0);
  const dev = rt.device;
  const step = (s: number) => {
    const b = sampler.at(s);
    model.writeBatch(packBatch(b.inputs, b.targets, cfg.vocab));
    const [lr, ss, bc2] = adamScalars(s, 1000, 1e-3);
    model.writeStep(lr, ss, bc2, stepSeed(0, s));
    model.trainProgram.submit(dev);
  };
  for (let s = 0; s < 2; s++) step(s);
  await dev.queue.onSubmittedWorkDone();
  return step;
}
