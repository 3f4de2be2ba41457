/**
 * One PTQ job on a DiT checkpoint: calibration images (lib/ptq/dit_calib.ts), the recipe on the DiT linears
 * of its scope (lib/ptq/recipes.ts `ditScope`), loss before / after = the DiT's validation ε-MSE on the same
 * fixed tuples `deno task eval` and training use (lib/models/dit/evaluate.ts), and the quantized checkpoint
 * that `deno task eval --inputs` and `deno task sample` load. CPU float64 throughout.
 * @module
 */
import type { DitConfig } from "../models/dit/config.ts";
import { ditLayout } from "../models/dit/config.ts";
import { loadDitModel } from "../models/dit/checkpoint.ts";
import { type EvalInputs, evalInputsFrom } from "../models/dit/diffusion.ts";
import { mnistValidationInputs, VAL_COUNT } from "../models/dit/evaluate.ts";
import { captureDitInputs, ditCalibrationInput, MIN_DIT_CALIB } from "./dit_calib.ts";
import { ditForward } from "../models/dit/reference.ts";
import { ditLinearLayers, type DitScope } from "./dit_layers.ts";
import type { InputHook } from "./forward.ts";
import type { PtqRecipe } from "./recipes.ts";
import { quantizeLinearsSearch } from "./quantize_model.ts";
import type { QuadSearch } from "./quad_batch.ts";
import { writeQuantizedDit } from "./checkpoint.ts";
import { type JobResult, type PreparedJob, preparedJob, runJobSearch } from "./job.ts";

/** A DiT job validated and loaded before any work. */
export interface PreparedDitPtq extends PreparedJob {
  /** Family tag. */
  family: "dit";
  /** Model shape. */
  cfg: DitConfig;
  /** Validation tuples for lossBefore / lossAfter. */
  evalImages: number;
  /** Linears quantized. */
  scope: DitScope;
}

/** Default calibration images on a DiT. */
export const DIT_CALIB_DEFAULT = 64;

/** Checks a DiT request (calibration count, shape) and loads the checkpoint; throws one line. */
export function prepareDitPtq(
  dir: string,
  recipe: PtqRecipe,
  bits: { bits: string; w: number; a: number },
  o: { calib?: number; seed?: number; evalImages?: number; scope?: DitScope },
): PreparedDitPtq {
  const calib = o.calib ?? DIT_CALIB_DEFAULT;
  if (!Number.isInteger(calib) || calib < MIN_DIT_CALIB) {
    throw new Error(
      `too few calibration samples: --calib ${calib} (need at least ${MIN_DIT_CALIB} images on a DiT)`,
    );
  }
  const { cfg, params, fp4lab } = loadDitModel(dir);
  if (cfg.inChannels !== 1 || cfg.inputSize !== 28) {
    throw new Error(
      `checkpoint ${dir}: ptq calibrates DiTs on MNIST digits (1×28×28), this one takes other images`,
    );
  }
  const train = fp4lab.train as { evalImages?: number } | undefined;
  const evalImages = o.evalImages ?? Math.min(train?.evalImages ?? VAL_COUNT, VAL_COUNT);
  if (!Number.isInteger(evalImages) || evalImages < 2) throw new Error(`--eval-images must be ≥ 2`);
  return {
    family: "dit",
    ...preparedJob(recipe, bits, params, fp4lab, calib, o.seed ?? 0),
    cfg,
    evalImages,
    scope: o.scope ?? recipe.ditScope,
  };
}

/** Mean (ε̂ − ε)² of the CPU DiT (with an input hook) over an evaluation set, summed in evalLoss's order. */
export function ditEvalLoss(
  cfg: DitConfig,
  params: Float64Array,
  inputs: EvalInputs,
  hook?: InputHook,
): number {
  const { x, t, y, target } = evalInputsFrom(inputs);
  const per = x.length / inputs.batch;
  let sum = 0;
  for (let a = 0; a < inputs.batch; a += 250) {
    const b = Math.min(inputs.batch, a + 250);
    const eps = ditForward(cfg, params, {
      batch: b - a,
      x: x.subarray(a * per, b * per),
      t: t.subarray(a, b),
      y: y.subarray(a, b),
    }, hook);
    for (let i = 0; i < eps.length; i++) sum += (eps[i] - target[a * per + i]) ** 2;
  }
  return sum / x.length;
}

/** A prepared DiT job as a {@link QuadSearch}: writes the quantized checkpoint, returns the report's numbers. */
export function runDitPreparedSearch(
  p: PreparedDitPtq,
  req: { checkpoint: string; out: string; iters?: number; log?: (line: string) => void },
): QuadSearch<JobResult> {
  const val = mnistValidationInputs(p.evalImages);
  const layout = ditLayout(p.cfg);
  const slots = ditLinearLayers(p.cfg, p.scope).map((info) => ({
    info,
    offset: layout.byName.get(info.name)!.offset,
  }));
  return runJobSearch(p, {
    loss: (params, hook) => ditEvalLoss(p.cfg, Float64Array.from(params), val, hook),
    lossLine: (loss) => `loss before ${loss.toFixed(6)} (ε-MSE over ${p.evalImages} validation tuples)`,
    capture: () =>
      captureDitInputs(p.cfg, Float64Array.from(p.params), ditCalibrationInput(p.cfg, p.calib, p.seed)),
    quantize: (inputs, o) => quantizeLinearsSearch(p.params, slots, inputs, p.recipe, o),
    ptqExtra: { evalImages: p.evalImages, scope: p.scope },
    write: (out, q, ptq) => writeQuantizedDit(out, p.cfg, q, ptq, p.extra),
  }, req);
}
