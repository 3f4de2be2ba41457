/**
 * Orthonormal block Walsh–Hadamard transform (Sylvester order), sizes 16–256, optional random ±1 signs.
 * Forward: y = H·(D·x) per block (signs first, then H; D = diag(signs)), the `rotation_fix` order of
 * Quartet. Inverse: x = D·(H·y) (H is symmetric and orthonormal, so H⁻¹ = H). The butterfly order and
 * the final 1/√n multiply are the same in WGSL, so results agree bit for bit.
 * @module
 */
import { rngSign } from "./rng.ts";

/** Allowed block sizes. */
export const HADAMARD_SIZES: readonly number[] = [16, 32, 64, 128, 256];

/** 1/√n as f32 (exact powers of two for n = 16, 64, 256). */
export function hadamardNorm(n: number): number {
  return Math.fround(1 / Math.sqrt(n));
}

/** The ±1 sign vector of length n for a seed (undefined seed: all +1, no randomization). */
export function hadamardSigns(n: number, seed?: number): Float32Array {
  const s = new Float32Array(n).fill(1);
  if (seed !== undefined) { for (let i = 0; i < n; i++) s[i] = rngSign(seed, i); }
  return s;
}

function check(n: number, len: number): void {
  if (!HADAMARD_SIZES.includes(n)) throw new Error(`hadamard size ${n} not in ${HADAMARD_SIZES.join("/")}`);
  if (len % n !== 0) throw new Error(`length ${len} is not a multiple of the hadamard block ${n}`);
}

/** In-place unnormalized fast WHT of v[off .. off+n) in Sylvester order (f32 adds and subtracts). */
function fwht(v: Float32Array, off: number, n: number): void {
  for (let h = 1; h < n; h *= 2) {
    for (let i = 0; i < n; i += 2 * h) {
      for (let j = i; j < i + h; j++) {
        const a = v[off + j], b = v[off + j + h];
        v[off + j] = a + b;
        v[off + j + h] = a - b;
      }
    }
  }
}

/**
 * Rotates every contiguous block of n values (returns a new array): y = (1/√n)·H·(D·x).
 * `signs` from hadamardSigns (omit for the plain transform).
 */
export function hadamardForward(x: Float32Array, n: number, signs?: Float32Array): Float32Array<ArrayBuffer> {
  check(n, x.length);
  const v = Float32Array.from(x);
  const norm = hadamardNorm(n);
  for (let off = 0; off < v.length; off += n) {
    if (signs) { for (let j = 0; j < n; j++) v[off + j] *= signs[j]; }
    fwht(v, off, n);
    for (let j = 0; j < n; j++) v[off + j] *= norm;
  }
  return v;
}

/** Inverse of hadamardForward: x = D·(H·y). */
export function hadamardInverse(y: Float32Array, n: number, signs?: Float32Array): Float32Array<ArrayBuffer> {
  check(n, y.length);
  const v = Float32Array.from(y);
  const norm = hadamardNorm(n);
  for (let off = 0; off < v.length; off += n) {
    fwht(v, off, n);
    for (let j = 0; j < n; j++) v[off + j] *= norm;
    if (signs) { for (let j = 0; j < n; j++) v[off + j] *= signs[j]; }
  }
  return v;
}

/** The dense n×n orthonormal Sylvester Hadamard matrix (row-major), for tests and small uses. */
export function hadamardMatrix(n: number): Float64Array {
  const h = new Float64Array(n * n);
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let b = i & j, par = 0;
      while (b) {
        par ^= b & 1;
        b >>= 1;
      }
      h[i * n + j] = par ? -s : s;
    }
  }
  return h;
}
