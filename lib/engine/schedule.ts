/**
 * The training schedule shared by every model family: learning rate (warmup + cosine by default, or a
 * warmup–stable–decay schedule), AdamW bias corrections as step-uniform values, and the per-step seed of
 * the stochastic parts.
 *
 * WSD (Hägele et al. 2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed Training Durations"):
 * linear warmup over a fixed number of steps, a constant peak, then a decay over the last `decay` fraction
 * of the run. Before its decay begins a run's learning rate does not depend on its length, which is what
 * lets runs that differ only in token budget share one stable-phase trajectory (lib/sweep/sharing.ts).
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

/** Learning rate at step s of a run: its WSD schedule when it has one, else the cosine {@link lrAt}. */
export function scheduledLr(s: number, steps: number, peak: number, schedule?: WsdSchedule): number {
  return schedule ? wsdLrAt(schedule, s, steps, peak) : lrAt(s, steps, peak);
}

/** Step-uniform values of step s (0-based): lr, lr/bc1, sqrt(bc2). */
export function adamScalars(
  s: number,
  steps: number,
  peak: number,
  schedule?: WsdSchedule,
): [number, number, number] {
  const lr = scheduledLr(s, steps, peak, schedule);
  const t = s + 1;
  return [lr, lr / (1 - Math.pow(OPT.beta1, t)), Math.sqrt(1 - Math.pow(OPT.beta2, t))];
}

/** Seed of the stochastic parts (rounding) of step s. */
export function stepSeed(seed: number, s: number): number {
  let h = Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) ^ Math.imul(s + 1, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
  return (h ^ (h >>> 13)) >>> 0;
}

/** A WSD schedule as it travels in a TrainConfig (and so in the run id's hash). */
export interface WsdSchedule {
  kind: "wsd";
  /** Warmup steps (absolute, so that runs of different lengths share it): peak/100 → peak, linear. */
  warmup: number;
  /** Fraction of the run's steps spent decaying (0 < decay ≤ 1); at least one step. */
  decay: number;
  /** Decay shape: `linear` (1 − p) or `1-sqrt` (1 − √p), p from 0 at the decay's first step. */
  shape: "linear" | "1-sqrt";
}

/** First step (0-based) of the decay of a `steps`-step run: never before the warmup ends. */
export function decayStart(sch: WsdSchedule, steps: number): number {
  const decaySteps = Math.max(1, Math.round(sch.decay * steps));
  return Math.min(steps - 1, Math.max(sch.warmup, steps - decaySteps));
}

/** Learning rate at step s (0-based) of a `steps`-step run with peak `peak` under `sch`. */
export function wsdLrAt(sch: WsdSchedule, s: number, steps: number, peak: number): number {
  if (s < sch.warmup) return peak / 100 + (peak - peak / 100) * (s / sch.warmup);
  const d0 = decayStart(sch, steps);
  if (s < d0) return peak;
  const p = (s - d0) / (steps - d0); // 0 at the decay's first step, (D-1)/D at the last
  return peak * (sch.shape === "linear" ? 1 - p : 1 - Math.sqrt(p));
}

/** One-line problem of a schedule (or undefined): integer warmup ≥ 0, 0 < decay ≤ 1, known shape. */
export function scheduleProblem(sch: WsdSchedule): string | undefined {
  if (sch.kind !== "wsd") return `schedule kind must be "wsd" (got ${JSON.stringify(sch.kind)})`;
  if (!Number.isInteger(sch.warmup) || sch.warmup < 0) {
    return `schedule warmup must be an integer ≥ 0 (got ${sch.warmup})`;
  }
  if (!(sch.decay > 0 && sch.decay <= 1)) return `schedule decay must be in (0, 1] (got ${sch.decay})`;
  if (sch.shape !== "linear" && sch.shape !== "1-sqrt") {
    return `schedule shape must be "linear" or "1-sqrt" (got ${JSON.stringify(sch.shape)})`;
  }
  return undefined;
}
