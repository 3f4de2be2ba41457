/**
 * Warmup–stable–decay (WSD) learning-rate schedules (Hägele et al. 2024, "Scaling Laws and Compute-Optimal
 * Training Beyond Fixed Training Durations"): linear warmup over a fixed number of steps, a constant peak,
 * then a decay over the last `decay` fraction of the run. Before its decay begins a run's learning rate
 * does not depend on its length, which is what lets runs that differ only in token budget share one
 * stable-phase trajectory (lib/sweep/sharing.ts). The engine's default cosine lives in ./train.ts.
 * @module
 */

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
