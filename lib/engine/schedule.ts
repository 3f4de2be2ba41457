/**
 * The training schedule shared by every model family: learning rate (warmup + cosine), AdamW bias
 * corrections as step-uniform values, and the per-step seed of the stochastic parts.
 * @module
 */
import { OPT } from "../layers/optimizer.ts";

/** Learning rate at step s (0-based): 10 % linear warmup from peak/100, cosine decay to peak/10. */
export function lrAt(s: number, steps: number, peak: number): number {
  const warm = Math.max(1, Math.round(0.1 * steps));
  if (s < warm) return peak / 100 + (peak - peak / 100) * (s / warm);
  const span = Math.max(1, steps - 1 - warm);
  const p = Math.min(1, (s - warm) / span);
  return peak / 10 + (peak - peak / 10) * 0.5 * (1 + Math.cos(Math.PI * p));
}

/** Step-uniform values of step s (0-based): lr, lr/bc1, sqrt(bc2). */
export function adamScalars(s: number, steps: number, peak: number): [number, number, number] {
  const lr = lrAt(s, steps, peak);
  const t = s + 1;
  return [lr, lr / (1 - Math.pow(OPT.beta1, t)), Math.sqrt(1 - Math.pow(OPT.beta2, t))];
}

/** Seed of the stochastic parts (rounding) of step s. */
export function stepSeed(seed: number, s: number): number {
  let h = Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) ^ Math.imul(s + 1, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
  return (h ^ (h >>> 13)) >>> 0;
}
