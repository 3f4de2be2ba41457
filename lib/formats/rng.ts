/**
 * Counter-based RNG: a stateless hash of (seed, counter) built from u32 multiply/xor/shift only
 * (PCG's RXS-M-XS output permutation, Jarzynski & Olano 2020), so WGSL produces the same stream.
 * For a fixed seed, counter → value is a bijection of u32 (no repeats within 2^32 counters).
 * @module
 */

/** PCG hash: one LCG step followed by the RXS-M-XS permutation (a bijection on u32). */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** Random u32 for (seed, counter): pcg(pcg(counter) ^ pcg(seed ^ 0x9e3779b9)). */
export function rngU32(seed: number, counter: number): number {
  return pcgHash((pcgHash(counter >>> 0) ^ pcgHash((seed ^ 0x9e3779b9) >>> 0)) >>> 0);
}

/** Uniform in [0, 1) with 24 random bits (exact in f32): (rngU32 >> 8) · 2^−24. */
export function rngUniform(seed: number, counter: number): number {
  return (rngU32(seed, counter) >>> 8) * 2 ** -24;
}

/** ±1 from the top bit of rngU32 (used for random Hadamard signs). */
export function rngSign(seed: number, counter: number): number {
  return rngU32(seed, counter) >>> 31 ? -1 : 1;
}
