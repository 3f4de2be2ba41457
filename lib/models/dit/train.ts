/**
 * Training a DiT on MNIST: per step a seeded batch of digits, uniformly drawn t, noise and label drops
 * (lib/models/dit/diffusion.ts), q_sample on the CPU, one recorded GPU step (forward, ε-MSE, backward, clip,
 * AdamW with the engine's warmup + cosine schedule, the weights' EMA), never awaited per step: losses are
 * read back in blocks of {@link LOSS_BLOCK} steps, the EMA once at the end. The validation loss is the mean
 * ε-MSE over the fixed validation tuples (t on an even grid over [0, 999]); the model is saved as
 * safetensors + config.json in the original DiT code's terms.
 * @module
 */
import type { CurvePoint, SchemeChoice, TrainConfig, TrainHooks, TrainResult } from "../../engine/api.ts";
import { adamScalars, lrAt, stepSeed } from "../../engine/schedule.ts";
import { attentionRecipe, checkTrainable } from "../../attention/recipes.ts";
import { sharedRuntime } from "../../gpu/runtime.ts";
import { loadMnist, MNIST_PIXELS, MnistBatches } from "../../data/mnist.ts";
import { resolveRecipe } from "../../schemes/resolve.ts";
import { type DitConfig, ditParamCounts, ditTokens, initDitParams, validateDitConfig } from "./config.ts";
import { qSample, trainingDraw } from "./diffusion.ts";
import { evalLoss, mnistValidationInputs } from "./evaluate.ts";
import { modelPredictor } from "./gpu_predictor.ts";
import { GpuDit } from "./model.ts";
import { emaDecay } from "../../layers/ema.ts";
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
  /** AdamW weight decay of the linear weights (absent: the engine's 0.1; the original DiT uses 0). */
  weightDecay?: number;
  /**
   * Decay of an exponential moving average of the weights (absent or 0: none). With it, the validation loss,
   * the saved checkpoint (and so `sample`/`eval`) use the averaged weights; the decay at step s is
   * min(ema, (1 + s)/(10 + s)) so that short runs average over their recent past, not their initialisation.
   * The average is kept in f32 on the GPU (lib/layers/ema.ts), updated after every optimizer step.
   */
  ema?: number;
}

/** Outcome of a DiT run. */
export interface DitTrainResult {
  /** Mean ε-MSE over the validation tuples (of the EMA weights when the run keeps an EMA). */
  finalValLoss: number;
  /** With an EMA: the validation ε-MSE of the raw (last-step) weights. */
  rawValLoss?: number;
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

/** Steps whose losses are read back together: one await per block, one block behind the GPU. */
export const LOSS_BLOCK = 64;

/** Marks a promise as handled (a failed run destroys its buffers while a map may be pending); returns it. */
function guard(p: Promise<void>): Promise<void> {
  p.catch(() => {});
  return p;
}

/**
 * Trains a DiT; saves to `outDir` when given. The loop never awaits the GPU per step: each step is one submit
 * (forward, loss, backward, clip, AdamW and, with an EMA, the average's update) whose loss is copied into a
 * slot of a block of {@link LOSS_BLOCK} steps; a block is read back once the next one is complete, so
 * `onStep` fires in bursts, in step order, every step once. The EMA stays on the GPU and is read at the end.
 */
export async function trainDit(
  c: DitTrainConfig,
  hooks: {
    outDir?: string;
    /** With an EMA: also save the raw (last-step) weights here (for comparisons). */
    rawOutDir?: string;
    /**
     * Every step's loss, in order, in bursts when a block is read back; `seconds`: the training loop's
     * time at that read-back. Throwing aborts the run.
     */
    onStep?: (step: number, loss: number, seconds: number) => void;
    /** Checked before every step: once aborted, the run throws "training aborted". */
    signal?: AbortSignal;
  } = {},
): Promise<DitTrainResult> {
  const t0 = performance.now();
  const { rt, adapter } = await sharedRuntime();
  const data = loadMnist();
  const B = c.batch, per = MNIST_PIXELS, classes = c.model.numClasses;
  const batches = new MnistBatches(data.train, B, c.seed);
  const val = mnistValidationInputs(c.evalImages);
  const attention = attentionRecipe(c.attention ?? "fp32");
  checkTrainable(attention);
  const ema = c.ema ?? 0;
  if (!(ema >= 0 && ema < 1)) throw new Error(`train: ema must be in [0, 1) (got ${ema})`);
  const model = GpuDit.create(rt, c.model, {
    batch: B,
    recipe: resolveRecipe(c.scheme),
    attention,
    ...(c.weightDecay !== undefined ? { weightDecay: c.weightDecay } : {}),
    ema: ema > 0,
  });
  const blocks = [0, 1].map((i) => rt.readback(LOSS_BLOCK * 4, `dit losses ${i}`));
  try {
    if (c.initFrom !== undefined) {
      const init = loadDitModel(c.initFrom);
      if (JSON.stringify(ditConfigJson(init.cfg)) !== JSON.stringify(ditConfigJson(c.model))) {
        throw new Error(`--init-from ${c.initFrom}: the checkpoint's DiT shape differs from this run's`);
      }
      model.setParams(init.params);
    } else model.setParams(initDitParams(c.model, c.seed));
    model.ema?.start();
    const curve: number[] = [];
    const tl = performance.now();
    let pending: { first: number; n: number; buf: GPUBuffer; p: Promise<void> } | undefined;
    const drain = async () => {
      if (!pending) return;
      const e = pending;
      pending = undefined;
      await e.p;
      const losses = new Float32Array(e.buf.getMappedRange(0, e.n * 4)).slice();
      e.buf.unmap();
      const seconds = (performance.now() - tl) / 1000;
      for (let i = 0; i < e.n; i++) {
        curve.push(losses[i]);
        hooks.onStep?.(e.first + i + 1, losses[i], seconds);
      }
    };
    for (let s = 0; s < c.steps; s++) {
      if (hooks.signal?.aborted) throw new Error("training aborted");
      const b = batches.at(s);
      const d = trainingDraw(c.seed, s, b.labels, per, classes);
      model.writeInputs({ x: qSample(b.images, d.t, d.noise), t: d.t, y: d.y, target: d.noise });
      const [lr, stepSize, sqrtBc2] = adamScalars(s, c.steps, c.lr);
      model.writeStep(lr, stepSize, sqrtBc2, stepSeed(c.seed, s));
      model.ema?.writeDecay(emaDecay(ema, s));
      const k = s % LOSS_BLOCK, buf = blocks[Math.floor(s / LOSS_BLOCK) % 2];
      const enc = rt.device.createCommandEncoder();
      model.trainProgram.encode(enc);
      enc.copyBufferToBuffer(model.scalars, 0, buf, k * 4, 4);
      rt.device.queue.submit([enc.finish()]);
      if (k === LOSS_BLOCK - 1 || s === c.steps - 1) {
        await drain(); // the previous block (its buffer is the next block's)
        pending = { first: s - k, n: k + 1, buf, p: guard(buf.mapAsync(GPUMapMode.READ)) };
      }
    }
    await drain();
    const loopSeconds = (performance.now() - tl) / 1000;
    let rawValLoss: number | undefined;
    if (model.ema) {
      rawValLoss = await evalLoss(modelPredictor(model), val);
      if (hooks.rawOutDir) {
        const raw = await model.readFloats(model.params);
        saveDitModel(hooks.rawOutDir, c.model, raw, { scheme: c.scheme, train: { ...c, ema: 0 } });
      }
      model.ema.load();
    }
    const finalValLoss = await evalLoss(modelPredictor(model), val);
    if (hooks.outDir) {
      const params = await model.readFloats(model.params);
      saveDitModel(hooks.outDir, c.model, params, { scheme: c.scheme, train: c });
    }
    const k = Math.max(1, Math.min(20, Math.ceil(c.steps * 0.05)));
    const tail = curve.slice(-k);
    return {
      finalValLoss,
      ...(rawValLoss !== undefined ? { rawValLoss } : {}),
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
    for (const b of blocks) b.destroy();
    await rt.device.queue.onSubmittedWorkDone();
    model.destroy();
  }
}

/** Validation tuples a TrainConfig asks for: evalTokens / patches per image, between 2 and 1,000. */
function evalImagesOf(c: TrainConfig): number {
  return Math.max(2, Math.min(1000, Math.round(c.evalTokens / ditTokens(c.model as DitConfig))));
}

/** Throws one line when a DiT TrainConfig cannot run. */
export function validateDitTrainConfig(c: TrainConfig): void {
  validateDitConfig(c.model as DitConfig);
  if (c.data !== "mnist") throw new Error(`train: a DiT trains on data "mnist" (got "${c.data}")`);
  if (!Number.isInteger(c.batch) || c.batch < 8 || c.batch % 8) {
    throw new Error(`train: DiT batch must be a positive multiple of 8 (got ${c.batch})`);
  }
  if (!Number.isInteger(c.steps) || c.steps < 1) throw new Error(`train: steps must be a positive integer`);
  if (!(c.lr > 0)) throw new Error(`train: lr must be positive`);
  checkRecipeBatch(c.scheme, c.batch);
}

/**
 * Throws one line when the recipe's weight-gradient blocks (along tokens) do not divide the batch: the
 * adaLN and timestep linears have one row per image.
 */
export function checkRecipeBatch(scheme: SchemeChoice, batch: number): void {
  const r = resolveRecipe(scheme);
  for (const p of [r.bwd.dwDy, r.bwd.dwX]) {
    if (!p) continue;
    let g = p.group;
    try {
      g = (p.forLength ? p.forLength(batch) : p).group;
    } catch (e) {
      throw new Error(
        `train: recipe ${r.name} cannot quantize the weight gradients of the DiT's adaLN and timestep linears ` +
          `(one row per image) at batch ${batch}: ${(e as Error).message}`,
      );
    }
    if (batch % g) {
      throw new Error(
        `train: recipe ${r.name} quantizes weight gradients in blocks of ${g} rows; the DiT's adaLN and timestep ` +
          `linears have one row per image, so the batch must be a multiple of ${g} (got ${batch})`,
      );
    }
  }
}

/**
 * A DiT run in the engine's contract (lib/engine/api.ts): tokens are patches, the curve's val loss is the
 * ε-MSE. Checkpoints are written at the end only (no resume: an interrupted DiT run restarts).
 */
export async function trainDitRun(config: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  validateDitTrainConfig(config);
  const model = config.model as DitConfig, T = ditTokens(model), per = config.batch * T;
  const t0 = performance.now();
  const r = await trainDit({
    model,
    batch: config.batch,
    steps: config.steps,
    lr: config.lr,
    seed: config.seed,
    scheme: config.scheme,
    evalImages: evalImagesOf(config),
  }, {
    outDir: hooks.outDir,
    signal: hooks.signal,
    onStep: (step, loss, seconds) => {
      // losses arrive in blocks (LOSS_BLOCK): the rate is the loop's mean up to the read-back
      if (hooks.signal?.aborted) throw new Error("training aborted");
      const tps = (step * per) / Math.max(seconds, 1e-9);
      hooks.onProgress?.({
        step,
        steps: config.steps,
        tokens: step * per,
        lr: lrAt(step - 1, config.steps, config.lr),
        trainLoss: loss,
        tokensPerSecond: tps,
        etaSeconds: ((config.steps - step) * per) / Math.max(tps, 1e-9),
      });
    },
  });
  const curve: CurvePoint[] = r.curve.map((l, i) => ({
    step: i + 1,
    tokens: (i + 1) * per,
    lr: lrAt(i, config.steps, config.lr),
    trainLoss: l,
  }));
  if (curve.length) curve[curve.length - 1].valLoss = r.finalValLoss;
  hooks.onEval?.({ step: config.steps, tokens: config.steps * per, valLoss: r.finalValLoss });
  const counts = ditParamCounts(model);
  const diverged = !Number.isFinite(r.finalValLoss) || !Number.isFinite(r.finalTrainLoss);
  return {
    status: diverged ? "diverged" : "finished",
    nonEmbeddingParams: counts.nonEmbedding,
    totalParams: counts.trainable,
    tokens: r.tokens,
    steps: config.steps,
    finalValLoss: r.finalValLoss,
    finalTrainLoss: r.finalTrainLoss,
    tokensPerSecond: r.stepsPerSecond * per,
    wallSeconds: (performance.now() - t0) / 1000,
    adapter: r.adapter,
    curve,
    availableTokens: loadMnist().train.count * T,
    epochs: (config.steps * config.batch) / loadMnist().train.count,
  };
}
