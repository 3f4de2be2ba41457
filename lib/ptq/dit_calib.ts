/**
 * DiT calibration: N noised training images with their labels (every tenth label replaced by the null class,
 * the training's label-drop rate, so classifier-free guidance's unconditional branch is calibrated too), at
 * timesteps spread evenly over [0, 999] with seeded noise; and the capture of every linear layer's input over
 * them with the float model (lib/models/dit/reference.ts's `ditForward` with an input hook).
 * @module
 */
import { loadMnist } from "../data/mnist.ts";
import type { DitConfig } from "../models/dit/config.ts";
import { qSample, validationTuples } from "../models/dit/diffusion.ts";
import { ditForward, type DitInput } from "../models/dit/reference.ts";
import { collectInputs } from "./calib.ts";

/** Fewest calibration images a recipe accepts on a DiT. */
export const MIN_DIT_CALIB = 8;

/** The calibration batch: `n` noised training images (seeded), labels with every tenth one null. */
export function ditCalibrationInput(cfg: DitConfig, n: number, seed: number): DitInput {
  if (!Number.isInteger(n) || n < MIN_DIT_CALIB) {
    throw new Error(
      `too few calibration samples: --calib ${n} (need at least ${MIN_DIT_CALIB} images on a DiT)`,
    );
  }
  if (cfg.inChannels !== 1 || cfg.inputSize !== 28) {
    throw new Error("dit calibration draws MNIST digits: the model must take 1×28×28 images");
  }
  const split = loadMnist().train;
  if (n > split.count) {
    throw new Error(
      `too few calibration samples: the training split has ${split.count} images, --calib ${n}`,
    );
  }
  const e = validationTuples(split, n, (seed ^ 0xca11b) >>> 0);
  const y = Int32Array.from(e.y, (v, i) => (i % 10 === 9 ? cfg.numClasses : v));
  return { batch: n, x: qSample(e.x0, e.t, e.noise), t: e.t, y };
}

/** Inputs of every linear layer over the calibration batch: weight name → X [rows, inF] (all layers). */
export function captureDitInputs(
  cfg: DitConfig,
  params: Float64Array,
  inp: DitInput,
): Map<string, Float64Array> {
  return collectInputs((hook) => ditForward(cfg, params, inp, hook));
}
