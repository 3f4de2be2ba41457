/**
 * Training a DiT on MNIST: per step a seeded batch of digits, uniformly drawn t, noise and label drops
 * (lib/models/dit/diffusion.ts), q_sample on the CPU, one recorded GPU step (forward, ε-MSE, backward, clip,
 * AdamW with the engine's warmup + cosine schedule). The validation loss is the mean ε-MSE over the fixed
 * validation tuples (t on an even grid over [0, 999]); the model is saved as safetensors + config.json in
 * the original DiT code's terms.
 * @module
 */
import { attentionRecipe, checkTrainable } from "../../attention/recipes.ts";
import type { SchemeChoice } from "../../engine/api.ts";
import { adamScalars, stepSeed } from "../../engine/train.ts";
import { sharedRuntime } from "../../gpu/runtime.ts";
import { loadMnist, MNIST_PIXELS, MnistBatches } from "../../data/mnist.ts";
import { resolveRecipe } from "../../schemes/resolve.ts";
import { type DitConfig, ditParamCounts, ditTokens, initDitParams } from "./config.ts";
import { qSample, trainingDraw } from "./diffusion.ts";
import { evalLoss, mnistValidationInputs } from "./evaluate.ts";
import { modelPredictor } from "./gpu_predictor.ts";
import { GpuDit } from "./model.ts";
import { ditConfigJson, loadDitModel, saveDitModel } from "./checkpoint.ts";

/** Everything that determines a DiT run. */
export interface DitTrainConfig {
  /** Model shape. */
  model: DitConfig;
  /** Images per step (a multiple of 8). */
  batch: number;
  /** Optimizer steps. */
  steps: number;
  /** Peak learning rate. */
  lr: number;
  /** Seed of init, batches, noise and label drops. */
  seed: number;
  /** Linear-layer recipe labels. */
  scheme: SchemeChoice;
  /** Validation tuples: the first `evalImages` of the standard set (lib/models/dit/evaluate.ts; 1,000 = all). */
  evalImages: number;
  /** Attention recipe (lib/attention/recipes.ts, one with a backward); absent: fp32. */
  attention?: string;
  /** Start from the weights of this DiT checkpoint directory (fine-tuning; fresh optimizer state). */
  initFrom?: string;
}

/** Outcome of a DiT run. */
export interface DitTrainResult {
  /** Mean ε-MSE over the validation tuples. */
  finalValLoss: number;
  /** Mean training loss over the last steps. */
  finalTrainLoss: number;
  /** Non-embedding parameters (DiT count rule, lib/models/dit/config.ts). */
  nonEmbeddingParams: number;
  /** Training images seen. */
  images: number;
  /** D for scaling laws: training images × patches per image. */
  tokens: number;
  /** Steps per second of the training loop. */
  stepsPerSecond: number;
  /** Wall time. */
  wallSeconds: number;
  /** Adapter. */
  adapter: string;
  /** Train losses per step. */
  curve: number[];
}

/** Trains a DiT; saves to `outDir` when given. */
export async function trainDit(
  c: DitTrainConfig,
  hooks: { outDir?: string; onStep?: (step: number, loss: number) => void } = {},
): Promise<DitTrainResult> {
  const t0 = performance.now();
  const { rt, adapter } = await sharedRuntime();
  const data = loadMnist();
  const B = c.batch, per = MNIST_PIXELS, classes = c.model.numClasses;
  const batches = new MnistBatches(data.train, B, c.seed);
  const val = mnistValidationInputs(c.evalImages);
  const attention = attentionRecipe(c.attention ?? "fp32");
  checkTrainable(attention);
  const model = GpuDit.create(rt, c.model, { batch: B, recipe: resolveRecipe(c.scheme), attention });
  const ring = rt.readback(16, "dit loss");
  try {
    if (c.initFrom !== undefined) {
      const init = loadDitModel(c.initFrom);
      if (JSON.stringify(ditConfigJson(init.cfg)) !== JSON.stringify(ditConfigJson(c.model))) {
        throw new Error(`--init-from ${c.initFrom}: the checkpoint's DiT shape differs from this run's`);
      }
      model.setParams(init.params);
    } else model.setParams(initDitParams(c.model, c.seed));
    const curve: number[] = [];
    const tl = performance.now();
    for (let s = 0; s < c.steps; s++) {
      const b = batches.at(s);
      const d = trainingDraw(c.seed, s, b.labels, per, classes);
      model.writeInputs({ x: qSample(b.images, d.t, d.noise), t: d.t, y: d.y, target: d.noise });
      const [lr, stepSize, sqrtBc2] = adamScalars(s, c.steps, c.lr);
      model.writeStep(lr, stepSize, sqrtBc2, stepSeed(c.seed, s));
      const enc = rt.device.createCommandEncoder();
      model.trainProgram.encode(enc);
      enc.copyBufferToBuffer(model.scalars, 0, ring, 0, 16);
      rt.device.queue.submit([enc.finish()]);
      await ring.mapAsync(GPUMapMode.READ);
      const loss = new Float32Array(ring.getMappedRange(0, 4))[0];
      ring.unmap();
      curve.push(loss);
      hooks.onStep?.(s + 1, loss);
    }
    const loopSeconds = (performance.now() - tl) / 1000;
    const finalValLoss = await evalLoss(modelPredictor(model), val);
    if (hooks.outDir) {
      const params = await model.readFloats(model.params);
      saveDitModel(hooks.outDir, c.model, params, { scheme: c.scheme, train: c });
    }
    const k = Math.max(1, Math.min(20, Math.ceil(c.steps * 0.05)));
    const tail = curve.slice(-k);
    return {
      finalValLoss,
      finalTrainLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
      nonEmbeddingParams: ditParamCounts(c.model).nonEmbedding,
      images: c.steps * B,
      tokens: c.steps * B * ditTokens(c.model),
      stepsPerSecond: c.steps / Math.max(loopSeconds, 1e-9),
      wallSeconds: (performance.now() - t0) / 1000,
      adapter,
      curve,
    };
  } finally {
    ring.destroy();
    await rt.device.queue.onSubmittedWorkDone();
    model.destroy();
  }
}
