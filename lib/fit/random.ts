/**
 * Seeded pseudo-random numbers, so bootstraps and synthetic data are reproducible.
 * @module
 */

/** A uniform [0, 1) generator with a normal() helper. */
export interface Rng {
  /** Next uniform number in [0, 1). */
  next(): number;
  /** Next standard-normal number (Box–Muller). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** mulberry32: tiny, fast and good enough for resampling and noise. */
export function makeRng(seed: number): Rng {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    normal() {
      const u = 1 - next(); // (0, 1]: log is finite
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    int(n: number) {
      return Math.floor(next() * n);
    },
  };
}
