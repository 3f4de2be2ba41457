/**
 * Bootstrap confidence intervals: resample runs with replacement within each (fwd, bwd) scheme (so every
 * stage of a Quartet fit keeps its runs), seed replicates as a second level inside their design cell
 * ({@link resampleWeights}), refit warm-started from the full fit, take percentiles.
 * @module
 */
import { executeFit } from "./execute.ts";
import { schemeName } from "./plan.ts";
import type { FitCI, FitPlan, FitResult, Interval } from "./types.ts";
import { makeRng } from "./random.ts";
import { replicateCells } from "./replicates.ts";

/** Bootstrap settings. */
export interface BootstrapOptions {
  /** Resamples (default 200). */
  samples?: number;
  /** Two-sided level (default 0.95). */
  level?: number;
  /** PRNG seed (default 1). */
  seed?: number;
}

/** Percentile of sorted values with linear interpolation (numpy's default). */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Multiplicities of one resample of the plan's runs: within each (fwd, bwd) scheme, draw design cells
 * with replacement (as many as the scheme has); within each drawn cell, draw its runs (seed replicates,
 * ./replicates.ts) with replacement, as many as it has. A resample so keeps every scheme's count of cells
 * and runs, and carries both the spread between design points and the noise between seeds. With one run
 * per cell this is the plain stratified resample of runs (and draws the same random numbers).
 */
export function resampleWeights(plan: FitPlan, rand: () => number): Float64Array {
  const w = new Float64Array(plan.runs.length);
  const strata = new Map<string, number[][]>();
  for (const cell of replicateCells(plan.runs)) {
    const r = plan.runs[cell[0]], k = schemeName(r.fwd, r.bwd);
    strata.set(k, [...(strata.get(k) ?? []), cell]);
  }
  for (const cells of strata.values()) {
    for (let j = 0; j < cells.length; j++) {
      const cell = cells[Math.floor(rand() * cells.length)];
      if (cell.length === 1) w[cell[0]]++;
      else for (let t = 0; t < cell.length; t++) w[cell[Math.floor(rand() * cell.length)]]++;
    }
  }
  return w;
}

/** Percentile intervals for every parameter and efficiency of `fit`. */
export function bootstrapCI(plan: FitPlan, fit: FitResult, o: BootstrapOptions = {}): FitCI {
  const samples = o.samples ?? 200, level = o.level ?? 0.95;
  const rng = makeRng(o.seed ?? 1);
  const acc = {
    params: {} as Record<string, number[]>,
    effN: {} as Record<string, number[]>,
    effD: {} as Record<string, number[]>,
  };
  const push = (m: Record<string, number[]>, k: string, v: number) => (m[k] ??= []).push(v);
  for (let s = 0; s < samples; s++) {
    const r = executeFit(plan, { weights: resampleWeights(plan, rng.next), warm: fit });
    for (const [k, v] of Object.entries(r.params)) push(acc.params, k, v);
    for (const [k, v] of Object.entries(r.effN)) push(acc.effN, k, v);
    for (const [k, v] of Object.entries(r.effD)) push(acc.effD, k, v);
  }
  const lo = (1 - level) / 2, hi = 1 - lo;
  const iv = (m: Record<string, number[]>) =>
    Object.fromEntries(
      Object.entries(m).map(([k, v]) => {
        const s = v.filter(Number.isFinite).sort((a, b) => a - b);
        return [k, [percentile(s, lo), percentile(s, hi)] as Interval];
      }),
    );
  return { level, samples, params: iv(acc.params), effN: iv(acc.effN), effD: iv(acc.effD) };
}
