/**
 * Training a DiT on MNIST: per step a seeded batch of digits, uniformly drawn t, noise and label drops
 * (lib/models/dit/diffusion.ts), q_sample on the CPU, one recorded GPU step (forward, ε-MSE, backward, clip,
 * AdamW with the engine's warmup + cosine schedule). The validation loss is the mean ε-MSE over the fixed
 * validation tuples (t on an even grid over [0, 999]); the model is saved as safetensors + config.json in
 * the original DiT code's terms.
 * @module
 */
import type { SchemeChoice } from "../../engine/api.ts";
import { adamScalars, stepSeed } from "../../engine/train.ts";
import { sharedRuntime } from "../../gpu/runtime.ts";
import { loadMnist, MNIST_PIXELS, MnistBatches } from "../../data/mnist.ts";
import { resolveRecipe } from "../../schemes/resolve.ts";
import { type DitConfig, ditParamCounts, ditTokens, initDitParams } from "./config.ts";
import { type EvalInputs, evalInputsFrom, qSample, trainingDraw, validationTuples } from "./diffusion.ts";
import { GpuDit } from "./model.ts";
import { saveDitModel } from "./checkpoint.ts";

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
  /** Validation tuples (from the held-out split). */
  evalImages: number;
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

/** Mean ε-MSE of a model over evaluation inputs (batches of the model's size; a ragged tail is padded and ignored). */
export async function ditEvalLoss(model: GpuDit, e: EvalInputs): Promise<number> {
  const { x, t, y, target } = evalInputsFrom(e);
  const B = model.batch, per = x.length / e.batch;
  let sum = 0;
  for (let s = 0; s < e.batch; s += B) {
    const n = Math.min(B, e.batch - s);
    const pad = (a: ArrayLike<number>, w: number, Ctor: typeof Float32Array | typeof Int32Array) => {
      const out = new Ctor(B * w);
      out.set(Array.prototype.slice.call(a, s * w, (s + n) * w));
      return out;
    };
    const tgt = pad(target, per, Float32Array) as Float32Array;
    const xb = pad(x, per, Float32Array) as Float32Array;
    // a ragged last batch is filled with zeros; only its first n images are summed
    model.writeInputs({ x: xb, t: pad(t, 1, Int32Array), y: pad(y, 1, Int32Array), target: tgt });
    const eps = await model.predict();
    for (let i = 0; i < n * per; i++) sum += (eps[i] - tgt[i]) ** 2;
  }
  return sum / (e.batch * per);
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
  const val = validationTuples(data.val, c.evalImages, c.seed);
  const model = GpuDit.create(rt, c.model, { batch: B, recipe: resolveRecipe(c.scheme) });
  const ring = rt.readback(16, "dit loss");
  try {
    model.setParams(initDitParams(c.model, c.seed));
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
    const finalValLoss = await ditEvalLoss(model, val);
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
