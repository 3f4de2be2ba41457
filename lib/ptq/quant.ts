/**
 * The two quantizer records of a quantized checkpoint and their application.
 * - {@link ActQuant}: the activation quantizer in front of one linear layer (JSON, stored in config.json):
 *   optional block Hadamard rotation, optional per-channel power-of-two pre-shift (LLM-FP4's ρ), then an
 *   element format with a static calibrated scale, an online per-token scale, or a block preset's own scales.
 * - Weight quantization results: the fake-quantized weight plus its per-group scales, so that every stored
 *   weight is `scale × grid value` (× 2^−ρ of its column where LLM-FP4 folded ρ into the weights).
 * @module
 */
import { hadamardForward, hadamardSigns, PRESETS, quantizeTensor } from "../formats/mod.ts";
import { gridOf, quantScaled } from "./grid.ts";
import type { InputHook } from "./forward.ts";

/** Activation quantizer of one linear layer's input. */
export interface ActQuant {
  /** Element format name (gridOf) for static/token modes; a lib/formats preset (mxfp4, nvfp4, …) for block. */
  format: string;
  /** static: one calibrated scale; token: per-row absmax at run time; block: the preset's block scales. */
  mode: "static" | "token" | "block";
  /** Static scale s: x ≈ s·Q(x/s). */
  scale?: number;
  /** Per-input-channel multipliers 2^ρ applied before quantizing (the weights carry 2^−ρ). */
  channelMul?: number[];
  /** Block Hadamard rotation applied first (the weights carry the same rotation). */
  hadamard?: { size: number; seed: number };
}

/** Rotates every row of X [M, K] in blocks of `size` with random signs from `seed` (copy). */
export function rotateRows(X: ArrayLike<number>, K: number, size: number, seed: number): Float64Array {
  if (X.length % K !== 0 || K % size !== 0) {
    throw new Error(`rotation: width ${K} is not a multiple of ${size}`);
  }
  const signs = hadamardSigns(size, seed);
  const out = new Float64Array(X.length);
  // lib/formats' transform works in f32; run it on the f64 values in blocks with the same signs/order.
  const blk = new Float64Array(size);
  const norm = 1 / Math.sqrt(size);
  for (let off = 0; off < X.length; off += size) {
    for (let j = 0; j < size; j++) blk[j] = X[off + j] * signs[j];
    for (let h = 1; h < size; h *= 2) {
      for (let i = 0; i < size; i += 2 * h) {
        for (let j = i; j < i + h; j++) {
          const a = blk[j], b = blk[j + h];
          blk[j] = a + b;
          blk[j + h] = a - b;
        }
      }
    }
    for (let j = 0; j < size; j++) out[off + j] = blk[j] * norm;
  }
  return out;
}

/** The f32 transform of lib/formats on one row (used by the tests to tie rotateRows to the shared definition). */
export function rotateRowF32(x: Float32Array, size: number, seed: number): Float32Array {
  return hadamardForward(x, size, hadamardSigns(size, seed));
}

/** Applies an activation quantizer to X [M, K] (returns a new array). */
export function applyAct(q: ActQuant, X: ArrayLike<number>, M: number, K: number): Float64Array {
  let v = q.hadamard ? rotateRows(X, K, q.hadamard.size, q.hadamard.seed) : Float64Array.from(X);
  if (q.channelMul) {
    const c = q.channelMul;
    for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) v[m * K + k] *= c[k];
  }
  if (q.format === "none") return v;
  if (q.mode === "block") {
    const spec = PRESETS[q.format];
    if (!spec) throw new Error(`unknown block preset "${q.format}"`);
    const r = quantizeTensor(Float32Array.from(v), spec, { rows: M, cols: K });
    v = Float64Array.from(r.values);
    return v;
  }
  const g = gridOf(q.format);
  if (q.mode === "static") {
    const s = q.scale ?? 0;
    for (let i = 0; i < v.length; i++) v[i] = quantScaled(g, v[i], s);
    return v;
  }
  for (let m = 0; m < M; m++) {
    let a = 0;
    for (let k = 0; k < K; k++) a = Math.max(a, Math.abs(v[m * K + k]));
    const s = a / g.max;
    for (let k = 0; k < K; k++) v[m * K + k] = quantScaled(g, v[m * K + k], s);
  }
  return v;
}

/** Rotates the rows of a weight [outF, inF] with the same transform as {@link rotateRows} (Y unchanged). */
export function rotateWeight(W: ArrayLike<number>, inF: number, size: number, seed: number): Float64Array {
  return rotateRows(W, inF, size, seed);
}

/** A quantized weight: values on `scale × grid` per group of `groupLen` along the input features. */
export interface QuantWeight {
  /** Element format (gridOf name) of the values. */
  format: string;
  /** Values [outF, inF] (float64; stored as f32 — every grid value × power-of-two-ish scale is exact in f32 only
   * up to the scale's rounding, so the stored scales are the f32 ones used to build the values). */
  w: Float64Array;
  /** Scales [outF, groups]. */
  scales: Float64Array;
  /** Group length along inF (inF for one scale per output channel). */
  groupLen: number;
}

/** Per-group absmax scales (×clip) of W [outF, inF], rounded to f32 so that stored values are exact. */
export function absmaxScales(
  W: ArrayLike<number>,
  outF: number,
  inF: number,
  groupLen: number,
  gmax: number,
  clip: number | ArrayLike<number> = 1,
): Float64Array {
  const G = Math.ceil(inF / groupLen);
  const s = new Float64Array(outF * G);
  for (let j = 0; j < outF; j++) {
    const r = typeof clip === "number" ? clip : clip[j];
    for (let g = 0; g < G; g++) {
      let a = 0;
      for (let k = g * groupLen; k < Math.min(inF, (g + 1) * groupLen); k++) {
        a = Math.max(a, Math.abs(W[j * inF + k]));
      }
      s[j * G + g] = Math.fround((a * r) / gmax);
    }
  }
  return s;
}

/** Round-to-nearest of W with given per-group scales. */
export function rtnWeight(
  W: ArrayLike<number>,
  outF: number,
  inF: number,
  format: string,
  scales: Float64Array,
  groupLen: number,
): QuantWeight {
  const g = gridOf(format), G = Math.ceil(inF / groupLen);
  const w = new Float64Array(outF * inF);
  for (let j = 0; j < outF; j++) {
    for (let k = 0; k < inF; k++) {
      const s = scales[j * G + Math.floor(k / groupLen)];
      w[j * inF + k] = Math.fround(quantScaled(g, W[j * inF + k], s));
    }
  }
  return { format, w, scales, groupLen };
}

/** A weight in a lib/formats block preset (mxfp4: E8M0 per 32, nvfp4: E4M3 per 16 under a tensor scale). */
export function presetWeight(W: ArrayLike<number>, outF: number, inF: number, preset: string): QuantWeight {
  const spec = PRESETS[preset];
  if (!spec) throw new Error(`unknown block preset "${preset}"`);
  const r = quantizeTensor(Float32Array.from(W), spec, { rows: outF, cols: inF });
  return {
    format: spec.element.name,
    w: Float64Array.from(r.values),
    scales: Float64Array.from(r.scales),
    groupLen: spec.scale.block!,
  };
}

/** Output MSE of a layer: mean over tokens and outputs of (X̂·Ŵᵀ − X·Wᵀ)². */
export function outputMse(
  X: Float64Array,
  Xq: Float64Array,
  W: ArrayLike<number>,
  Wq: ArrayLike<number>,
  M: number,
  inF: number,
  outF: number,
): number {
  let s = 0;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < outF; n++) {
      let a = 0, b = 0;
      for (let k = 0; k < inF; k++) {
        a += X[m * inF + k] * W[n * inF + k];
        b += Xq[m * inF + k] * Wq[n * inF + k];
      }
      s += (a - b) ** 2;
    }
  }
  return s / (M * outF);
}

/** The forward hook of a set of activation quantizers (linear name → quantizer; other inputs pass through). */
export function actHook(acts: Record<string, ActQuant>): InputHook {
  return (name, X, M, K) => (acts[name] ? applyAct(acts[name], X, M, K) : X);
}
