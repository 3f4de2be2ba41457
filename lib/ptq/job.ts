/**
 * The steps of a PTQ job that are the same for every model family: loss of the float model, calibration
 * capture, quantization (a {@link QuadSearch}), loss of the quantized model with its activation quantizers,
 * the `fp4lab.ptq` config and the quantized checkpoint. A family (lib/ptq/run.ts: Llama; lib/ptq/dit_run.ts:
 * DiT) supplies how it measures, captures, quantizes and writes ({@link JobFamily}).
 * @module
 */
import type { InputHook } from "./forward.ts";
import type { PtqRecipe } from "./recipes.ts";
import type { LayerReport, QuantizedModel, QuantizeOptions } from "./quantize_model.ts";
import type { QuadSearch } from "./quad_batch.ts";
import type { PtqConfig } from "./checkpoint.ts";
import { actHook } from "./quant.ts";

/** What every prepared job carries, whatever the family. */
export interface PreparedJob {
  /** Recipe. */
  recipe: PtqRecipe;
  /** Bit widths. */
  bits: { bits: string; w: number; a: number };
  /** Float parameters (the family's flat layout). */
  params: Float32Array;
  /** The source's fp4lab fields to keep. */
  extra: Record<string, unknown>;
  /** Calibration samples (sequences or images). */
  calib: number;
  /** Seed. */
  seed: number;
}

/**
 * The common fields of a prepared job; the source checkpoint's `fp4lab` section gives the fields the quantized
 * checkpoint keeps (its training config and step).
 */
export function preparedJob(
  recipe: PtqRecipe,
  bits: PreparedJob["bits"],
  params: Float32Array,
  fp4lab: { train?: unknown; step?: unknown },
  calib: number,
  seed: number,
): PreparedJob {
  return {
    recipe,
    bits,
    params,
    extra: { train: fp4lab.train ?? null, step: fp4lab.step ?? null },
    calib,
    seed,
  };
}

/** A family's part of a job. */
export interface JobFamily {
  /** Validation loss of a flat parameter buffer, `hook` on every linear input (the activation quantizers). */
  loss(params: Float32Array, hook?: InputHook): number;
  /** The progress line that reports the float loss. */
  lossLine(loss: number): string;
  /** Calibration inputs of every linear layer of the float model: name → X [rows, inF]. */
  capture(): Map<string, Float64Array>;
  /** Quantizes the family's linears from their calibration inputs. */
  quantize(inputs: Map<string, Float64Array>, o: QuantizeOptions): QuadSearch<QuantizedModel>;
  /** The family's own `fp4lab.ptq` fields, written after the common ones. */
  ptqExtra: Partial<PtqConfig>;
  /** Writes the quantized checkpoint. */
  write(out: string, q: QuantizedModel, ptq: PtqConfig): void;
}

/** What a job's report needs from its run. */
export interface JobResult {
  /** Validation loss of the float model. */
  lossBefore: number;
  /** Validation loss of the quantized model. */
  lossAfter: number;
  /** Per-layer report. */
  layers: LayerReport[];
}

/** Runs a prepared job's common steps with its family's parts and writes the quantized checkpoint. */
export function* runJobSearch(
  p: PreparedJob,
  family: JobFamily,
  req: { checkpoint: string; out: string; iters?: number; log?: (line: string) => void },
): QuadSearch<JobResult> {
  const lossBefore = family.loss(p.params);
  req.log?.(family.lossLine(lossBefore));
  const q = yield* family.quantize(family.capture(), {
    wBits: p.bits.w,
    aBits: p.bits.a,
    seed: p.seed,
    iters: req.iters,
    log: req.log,
  });
  const lossAfter = family.loss(q.params, actHook(q.acts));
  const ptq: PtqConfig = {
    recipe: p.recipe.name,
    bits: p.bits.bits,
    source: req.checkpoint,
    calib: p.calib,
    seed: p.seed,
    acts: q.acts,
    weights: q.weights,
    lossBefore,
    lossAfter,
    ...family.ptqExtra,
  };
  family.write(req.out, q, ptq);
  return { lossBefore, lossAfter, layers: q.layers };
}
