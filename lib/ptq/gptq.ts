/**
 * FP-GPTQ (HQ-DiT's weight quantizer, reconstructed): GPTQ's column-by-column quantization with error
 * feedback through the inverse Hessian H = 2·XᵀX/M, the rounding target being the FP grid times each row's
 * (group's) fixed scale.
 * @module
 */
import { cholesky, gram, spdInverse } from "./linalg.ts";
import { gridOf, quantScaled } from "./grid.ts";
import type { QuantWeight } from "./quant.ts";

/** Options of {@link gptq}. */
export interface GptqOptions {
  /** Dampening as a fraction of the mean Hessian diagonal (GPTQ default 0.01). */
  damp?: number;
}

/** Quantizes W [outF, inF] with GPTQ error feedback on inputs X [M, inF]; the scales stay as given. */
export function gptq(
  W: Float64Array,
  X: Float64Array,
  M: number,
  outF: number,
  inF: number,
  format: string,
  scales: Float64Array,
  groupLen: number,
  opts: GptqOptions = {},
): QuantWeight {
  const g = gridOf(format), K = inF, G = Math.ceil(inF / groupLen);
  const H = gram(X, X, M, K);
  const Wc = Float64Array.from(W);
  let mean = 0;
  for (let i = 0; i < K; i++) mean += H[i * K + i];
  mean = (2 * mean) / K;
  for (let i = 0; i < H.length; i++) H[i] *= 2;
  for (let i = 0; i < K; i++) {
    if (H[i * K + i] === 0) {
      H[i * K + i] = 1;
      for (let j = 0; j < outF; j++) Wc[j * K + i] = 0;
    }
    H[i * K + i] += (opts.damp ?? 0.01) * (mean || 1);
  }
  const Hinv = spdInverse(H, K);
  const L = cholesky(Hinv, K); // Hinv = L·Lᵀ, so U = Lᵀ is the upper factor GPTQ uses (Hinv = UᵀU)
  const Q = new Float64Array(outF * K);
  for (let i = 0; i < K; i++) {
    const uii = L[i * K + i];
    for (let j = 0; j < outF; j++) {
      const w = Wc[j * K + i];
      const q = Math.fround(quantScaled(g, w, scales[j * G + Math.floor(i / groupLen)]));
      Q[j * K + i] = q;
      const err = (w - q) / uii;
      for (let k = i + 1; k < K; k++) Wc[j * K + k] -= err * L[k * K + i];
    }
  }
  return { format, w: Q, scales, groupLen };
}
