/**
 * `train(config, hooks)`: the engine's entry point (contract in ./api.ts).
 *
 * The loop never awaits the GPU per step: each step is one submit, and the step's mean loss is copied
 * into a ring of MAP_READ buffers that is read `RING` steps later. Evaluations and checkpoints drain
 * the ring. A run is a pure function of its config (and the adapter).
 * @module
 */
import type { CurvePoint, ModelConfig, TrainConfig, TrainHooks, TrainResult } from "./api.ts";
import { initParams, paramCounts, validateModelConfig } from "../models/llama/config.ts";
import { GpuModel, packBatch } from "../models/llama/model.ts";
import { adamScalars, scheduledLr, stepSeed } from "./schedule.ts";
import { trainDitRun, validateDitTrainConfig } from "../models/dit/train.ts";
import { sharedRuntime } from "../gpu/runtime.ts";
import { resolveRecipe } from "../schemes/resolve.ts";
import { parseSwitch, switchStep } from "../schemes/schedule.ts";
import { loadSource } from "../data/sources.ts";
import { BatchSampler, validationBatches } from "../data/batches.ts";
import { loadTrainerState, saveCheckpoint, type TrainerState } from "./checkpoint.ts";
import type { Batch } from "../data/batches.ts";
import { decayStart, scheduleProblem } from "./schedule.ts";
import { attentionRecipe, checkTrainable } from "../attention/recipes.ts";

/** Loss read-back lag in steps (ring size). */
export const RING = 6;

/** The engine's shared runtime (pipeline cache) on the process's device (lib/gpu/runtime.ts). */
export const getRuntime = sharedRuntime;

export { adamScalars, lrAt, scheduledLr, stepSeed } from "./schedule.ts";

/** Validates a training config; throws one clear line. */
export function validateTrainConfig(c: TrainConfig): void {
  if (c.model.family === "dit") return validateDitTrainConfig(c);
  validateModelConfig(c.model);
  const posInt = (n: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`train: ${n} must be a positive integer (got ${v})`);
  };
  posInt("batch", c.batch);
  posInt("steps", c.steps);
  if (!(c.lr > 0 && Number.isFinite(c.lr))) {
    throw new Error(`train: lr must be a positive number (got ${c.lr})`);
  }
  if (!Number.isInteger(c.seed)) throw new Error(`train: seed must be an integer (got ${c.seed})`);
  if (!Number.isInteger(c.evalEvery) || c.evalEvery < 0) throw new Error(`train: evalEvery must be ≥ 0`);
  if (!Number.isInteger(c.evalTokens) || c.evalTokens < 1) throw new Error(`train: evalTokens must be ≥ 1`);
  const choice = c.scheme ?? { fwd: "fp32", bwd: "fp32" };
  const sw = parseSwitch(choice); // target-precision schedule "A~B@f" (lib/schemes/schedule.ts)
  for (const ch of sw ? [sw.first, sw.second] : [choice]) resolveRecipe(ch);
  if (c.attention !== undefined) checkTrainable(attentionRecipe(c.attention));
  if (c.schedule) {
    const p = scheduleProblem(c.schedule);
    if (p) throw new Error(`train: ${p}`);
  }
}

/** The config without its step count: runs with equal keys differ only in their token budget. */
function withoutSteps(c: TrainConfig): string {
  return JSON.stringify({ ...c, steps: 0 });
}

/**
 * Throws unless `b` may branch from a run of `cfg` at `step`: both WSD, equal but for `steps`, no
 * scheme switch (its step depends on the length), and `step` no later than either run's decay start.
 */
export function validateBranch(cfg: TrainConfig, b: TrainConfig, step: number): void {
  const sch = cfg.schedule;
  if (!sch || !b.schedule) throw new Error("train: only WSD runs can branch");
  if (withoutSteps(cfg) !== withoutSteps(b)) throw new Error("train: a branch must differ only in steps");
  if (parseSwitch(cfg.scheme)) throw new Error("train: runs with a scheme switch cannot branch");
  if (
    !Number.isInteger(step) || step < 1 || step > decayStart(sch, b.steps) ||
    step > decayStart(sch, cfg.steps)
  ) {
    throw new Error(`train: branch step ${step} is past a decay start`);
  }
}

/** Mean next-token loss of `batches` (forward only, one await at the end). */
export async function evaluate(model: GpuModel, batches: Batch[]): Promise<number> {
  const V = model.cfg.vocab;
  model.resetEvalSum();
  let count = 0;
  for (const b of batches) {
    for (const t of b.targets) if (t >= 0) count++;
    model.writeBatch(packBatch(b.inputs, b.targets, V));
    model.evalProgram.submit(model.rt.device);
  }
  const s = await model.readFloats(model.scalars, 4);
  return count ? s[1] / count : NaN;
}

/** Marks a promise as handled (a failed run destroys its ring while maps may be pending) and returns it. */
function guard(p: Promise<void>): Promise<void> {
  p.catch(() => {});
  return p;
}

/** Trains a model; see ./api.ts for the contract. */
export async function train(config: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  if (config.model.family === "dit") return await trainDitRun(config, hooks);
  const t0 = performance.now();
  const norm = (c: TrainConfig): TrainConfig => ({ ...c, scheme: c.scheme ?? { fwd: "fp32", bwd: "fp32" } });
  const cfg: TrainConfig = norm(config);
  validateTrainConfig(cfg);
  const branches = (hooks.branches ?? []).map((b) => ({ ...b, config: norm(b.config) }));
  for (const b of branches) validateBranch(cfg, b.config, b.step);
  const lrOf = (s: number) => scheduledLr(s, cfg.steps, cfg.lr, cfg.schedule);
  const mc: ModelConfig = cfg.model as ModelConfig;
  const { rt, adapter } = await getRuntime();
  const data = loadSource(cfg.data);
  const T = mc.context, B = cfg.batch, tokPerStep = B * T;
  const sampler = new BatchSampler(data.train, T, B, cfg.seed);
  if (cfg.steps * B > sampler.windows) {
    console.warn(
      `warning: ${
        cfg.steps * tokPerStep
      } training tokens requested but "${data.name}" has ${sampler.availableTokens} ` +
        `(${(cfg.steps * B / sampler.windows).toFixed(2)} epochs): data will repeat`,
    );
  }
  hooks.onData?.({
    source: data.name,
    trainTokens: sampler.availableTokens,
    valTokens: data.val.length,
    entropyRate: data.entropyRate,
  });
  const val = validationBatches(data.val, T, B, cfg.evalTokens);
  if (val.tokens < 1) throw new Error(`data: "${data.name}" has no validation tokens`);
  // Target-precision schedule: the model is rebuilt with the second scheme at the switch step.
  const sw = parseSwitch(cfg.scheme);
  const swAt = sw ? switchStep(sw, cfg.steps) : Infinity;
  const attention = attentionRecipe(cfg.attention ?? "fp32");
  let model = GpuModel.create(rt, mc, {
    batch: B,
    recipe: resolveRecipe(sw ? sw.first : cfg.scheme),
    train: true,
    attention,
  });
  let ring: GPUBuffer[] = [];
  try {
    const counts = paramCounts(mc);

    // ---- initial or resumed state ----
    let start = 0;
    const curve: CurvePoint[] = [];
    const trainLosses: number[] = [];
    const resumed = hooks.resume && hooks.outDir ? loadTrainerState(hooks.outDir) : null;
    if (resumed) {
      if (JSON.stringify(resumed.state.config) !== JSON.stringify(cfg)) {
        throw new Error(`checkpoint ${hooks.outDir} was written by a different config; refusing to resume`);
      }
      const { loadModel } = await import("./checkpoint.ts");
      model.setParams(loadModel(hooks.outDir!).params);
      model.setMoments(resumed.m, resumed.v);
      start = resumed.state.step;
      curve.push(...resumed.state.curve);
      trainLosses.push(...resumed.state.trainLosses);
    } else if (cfg.initFrom !== undefined) {
      const { loadModel } = await import("./checkpoint.ts");
      const init = loadModel(cfg.initFrom);
      const keys = ["layers", "dModel", "heads", "ffn", "context", "vocab"] as const;
      if (keys.some((k) => init.cfg[k] !== mc[k])) {
        throw new Error(`--init-from ${cfg.initFrom}: the checkpoint's model shape differs from this run's`);
      }
      model.setParams(init.params);
    } else {
      model.setParams(initParams(mc, cfg.seed));
    }
    const switchModel = async () => {
      const [p, m, v] = [
        await model.readFloats(model.params),
        await model.readFloats(model.m1),
        await model.readFloats(model.m2),
      ];
      model.destroy();
      model = GpuModel.create(rt, mc, {
        batch: B,
        recipe: resolveRecipe(sw!.second),
        train: true,
        attention,
      });
      model.setParams(p);
      model.setMoments(m, v);
    };

    // ---- loss ring ----
    ring = Array.from({ length: RING }, (_, i) => rt.readback(16, `loss ring ${i}`));
    const pending: { step: number; slot: number; p: Promise<void> }[] = [];
    let diverged = false;
    let trainSeconds = 0, loopStart = performance.now(), stepsRun = 0;
    const settle = async (upTo: number) => {
      while (pending.length && pending[0].step <= upTo) {
        const e = pending.shift()!;
        await e.p;
        const loss = new Float32Array(ring[e.slot].getMappedRange(0, 4))[0];
        ring[e.slot].unmap();
        if (diverged) continue;
        if (!Number.isFinite(loss)) {
          diverged = true;
          continue;
        }
        trainLosses.push(loss);
        const step = e.step + 1;
        curve.push({ step, tokens: step * tokPerStep, lr: lrOf(e.step), trainLoss: loss });
        if (hooks.onProgress) {
          const el = trainSeconds + (performance.now() - loopStart) / 1000;
          const tps = ((step - start) * tokPerStep) / Math.max(el, 1e-9);
          hooks.onProgress({
            step,
            steps: cfg.steps,
            tokens: step * tokPerStep,
            lr: lrOf(e.step),
            trainLoss: loss,
            tokensPerSecond: tps,
            etaSeconds: ((cfg.steps - step) * tokPerStep) / Math.max(tps, 1e-9),
          });
        }
      }
    };
    const pause = () => (trainSeconds += (performance.now() - loopStart) / 1000);
    const resume = () => (loopStart = performance.now());

    const runEval = async (step: number) => {
      await settle(Infinity);
      pause();
      const v = await evaluate(model, val.batches);
      const pt = curve.findLast((c) => c.step === step);
      if (pt) pt.valLoss = v;
      else {curve.push({
          step,
          tokens: step * tokPerStep,
          lr: lrOf(Math.max(0, step - 1)),
          trainLoss: NaN,
          valLoss: v,
        });}
      hooks.onEval?.({ step, tokens: step * tokPerStep, valLoss: v });
      resume();
      return v;
    };
    const save = async (step: number, dir = hooks.outDir, config = cfg) => {
      if (!dir) return;
      await settle(Infinity);
      pause();
      const [p, m, v] = [
        await model.readFloats(model.params),
        await model.readFloats(model.m1),
        await model.readFloats(model.m2),
      ];
      const state: TrainerState = {
        step,
        config,
        curve,
        trainLosses,
        adapter,
        tokens: step * tokPerStep,
      };
      saveCheckpoint(dir, mc, p, { m, v }, state, config.scheme);
      resume();
    };

    // ---- the loop ----
    for (let s = start; s < cfg.steps; s++) {
      if (hooks.signal?.aborted) {
        await settle(Infinity);
        throw new Error("training aborted");
      }
      const slot = s % RING;
      if (pending.length >= RING) await settle(pending[0].step);
      if (diverged) break;
      if (s === Math.max(swAt, start) && s < cfg.steps) {
        await settle(Infinity);
        pause();
        await switchModel();
        resume();
      }
      const b = sampler.at(s);
      model.writeBatch(packBatch(b.inputs, b.targets, mc.vocab));
      const [lr, stepSize, sqrtBc2] = adamScalars(s, cfg.steps, cfg.lr, cfg.schedule);
      model.writeStep(lr, stepSize, sqrtBc2, stepSeed(cfg.seed, s));
      const enc = rt.device.createCommandEncoder();
      model.trainProgram.encode(enc);
      enc.copyBufferToBuffer(model.scalars, 0, ring[slot], 0, 16);
      rt.device.queue.submit([enc.finish()]);
      pending.push({ step: s, slot, p: guard(ring[slot].mapAsync(GPUMapMode.READ)) });
      stepsRun++;
      const done = s + 1;
      if (cfg.evalEvery > 0 && done % cfg.evalEvery === 0 && done < cfg.steps) await runEval(done);
      if (hooks.checkpointEvery && done % hooks.checkpointEvery === 0 && done < cfg.steps) await save(done);
      for (const b of branches) {
        if (b.step !== done || diverged) continue;
        await settle(Infinity); // a loss read back now may reveal a divergence: never branch from one
        if (diverged) continue;
        const release = b.claim ? b.claim() : () => {};
        if (!release) continue;
        try {
          await save(done, b.outDir, b.config);
        } finally {
          release();
        }
      }
    }
    await settle(Infinity);
    pause();
    const trainLoopSeconds = trainSeconds;
    resume();
    const lastStep = diverged ? (curve.at(-1)?.step ?? 0) : cfg.steps;
    const finalValLoss = diverged ? NaN : await runEval(lastStep);
    if (!diverged) await save(cfg.steps);
    const k = Math.max(1, Math.min(20, Math.ceil(cfg.steps * 0.05)));
    const tail = trainLosses.slice(-k);
    return {
      status: diverged ? "diverged" : "finished",
      nonEmbeddingParams: counts.nonEmbedding,
      totalParams: counts.total,
      tokens: lastStep * tokPerStep,
      steps: lastStep,
      finalValLoss,
      finalTrainLoss: tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : NaN,
      tokensPerSecond: stepsRun ? (stepsRun * tokPerStep) / Math.max(trainLoopSeconds, 1e-9) : 0,
      wallSeconds: (performance.now() - t0) / 1000,
      adapter,
      curve,
      availableTokens: sampler.availableTokens,
      epochs: (lastStep * tokPerStep) / sampler.availableTokens,
      ...(data.entropyRate !== undefined ? { entropyRate: data.entropyRate } : {}),
    };
  } finally {
    for (const r of ring) r.destroy();
    await rt.device.queue.onSubmittedWorkDone();
    model.destroy();
  }
}
