/**
 * Drawing labelled digits from a DiT through an injected ε predictor, and the figures built on them.
 *
 * Public API:
 * - {@link referencePredictor}: the float64 TypeScript DiT as an {@link EpsPredictor} (slow; the GPU model
 *   provides a predictor with the same signature).
 * - {@link sampleByClass}: `perClass` DDIM samples of every class, class-major (row r of a grid = class r).
 * - {@link sampleGridPng}: the PNG of a classes × perClass grid.
 * - {@link sampleQualityOf}: Fréchet distance (PCA-64) and 1-NN accuracy of `perClass · classes` samples.
 * @module
 */
import { type DitConfig, ditPatchDim, ditTokens } from "./config.ts";
import { ddimSample, type EpsPredictor } from "./diffusion.ts";
import { ditForward, toFloat64 } from "./reference.ts";
import { encodeGrayPng, imageGrid } from "../../images/png.ts";
import { type SampleQuality, sampleQuality } from "./quality.ts";

/** The float64 reference DiT as a batch predictor. */
export function referencePredictor(cfg: DitConfig, params: Float32Array | Float64Array): EpsPredictor {
  const p = params instanceof Float64Array ? params : toFloat64(params);
  return (x, t, y) => ditForward(cfg, p, { batch: t.length, x, t, y });
}

/** Options of {@link sampleByClass}. */
export interface ClassSampleOptions {
  /** Samples per class (10 for a 10×10 grid). */
  perClass: number;
  /** DDIM steps (50). */
  steps?: number;
  /** Classifier-free guidance scale (4). */
  cfg?: number;
  /** Seed of the initial noise (0). */
  seed?: number;
  /** Largest batch handed to the predictor (default: everything at once). */
  maxBatch?: number;
  /** Clip each step's x₀ prediction to [−1, 1] (default true, see {@link ddimSample}). */
  clip?: boolean;
  /** DDIM stochasticity η in [0, 1] (default 0, deterministic; see {@link ddimSample}). */
  eta?: number;
}

/** `perClass` samples of each class, class-major: images [classes·perClass, C, S, S] and labels. */
export async function sampleByClass(
  cfg: DitConfig,
  predict: EpsPredictor,
  o: ClassSampleOptions,
): Promise<{ images: Float32Array; labels: Int32Array }> {
  const n = cfg.numClasses * o.perClass;
  const labels = Int32Array.from({ length: n }, (_, i) => Math.floor(i / o.perClass));
  const images = await ddimSample(predict, {
    labels,
    perImage: ditTokens(cfg) * ditPatchDim(cfg),
    nullClass: cfg.numClasses,
    steps: o.steps,
    cfg: o.cfg,
    seed: o.seed,
    maxBatch: o.maxBatch,
    clip: o.clip,
    eta: o.eta,
  });
  return { images, labels };
}

/** PNG of a classes × perClass grid of samples (one row per class), upscaled `scale`×. */
export async function sampleGridPng(
  cfg: DitConfig,
  predict: EpsPredictor,
  o: ClassSampleOptions & { scale?: number },
): Promise<Uint8Array> {
  if (cfg.inChannels !== 1) throw new Error("sample: grids are greyscale (in_channels must be 1)");
  const { images } = await sampleByClass(cfg, predict, o);
  const g = imageGrid(images, {
    rows: cfg.numClasses,
    cols: o.perClass,
    side: cfg.inputSize,
    scale: o.scale ?? 2,
  });
  return encodeGrayPng(g.width, g.height, g.pixels);
}

/** Quality of `perClass` samples per class (100 → 1,000 digits) against the held-out MNIST digits. */
export async function sampleQualityOf(
  cfg: DitConfig,
  predict: EpsPredictor,
  o: ClassSampleOptions,
): Promise<SampleQuality> {
  if (cfg.inputSize !== 28 || cfg.inChannels !== 1) {
    throw new Error("quality: defined for 28×28 greyscale digits");
  }
  const { images, labels } = await sampleByClass(cfg, predict, o);
  return sampleQuality(images, labels);
}
