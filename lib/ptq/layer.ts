/**
 * What every method works on and returns for one linear layer.
 * @module
 */
import type { LinearInfo } from "./forward.ts";
import type { ActQuant, QuantWeight } from "./quant.ts";

/** One linear layer's calibration data. */
export interface LayerData {
  /** Layer. */
  info: LinearInfo;
  /** Its float weight [outF, inF]. */
  W: Float64Array;
  /** Calibration inputs X [M, inF] captured from the float model. */
  X: Float64Array;
  /** Calibration tokens M. */
  M: number;
}

/** A method's result for one layer. */
export interface LayerResult {
  /** The quantized weight in the basis the activation quantizer feeds (rotated / ρ-folded as needed). */
  weight: QuantWeight;
  /** Per-input-column factor folded into the stored weight (2^−ρ), if any. */
  colScale?: Float64Array;
  /** The activation quantizer (absent: activations stay float). */
  act?: ActQuant;
  /** Extra facts for the report (search choices, reconstruction traces). */
  notes?: Record<string, unknown>;
}

/** The stored weight of a result: weight values × column factors. */
export function storedWeight(r: LayerResult, inF: number): Float64Array {
  if (!r.colScale) return r.weight.w;
  const out = new Float64Array(r.weight.w.length);
  for (let i = 0; i < out.length; i++) out[i] = r.weight.w[i] * r.colScale[i % inF];
  return out;
}
