/**
 * Seeds as replicates. Runs at the same fit coordinates (scheme labels, N, D and precision columns) differ
 * only in what the law does not see; in a sweep that is the seed (every other config field is fixed by the
 * spec or a function of N). They form one design cell. The bootstrap (./bootstrap.ts) resamples cells and,
 * within a drawn cell, its runs; the charts draw each cell's spread across seeds as an error bar.
 * @module
 */
import { schemeName } from "./plan.ts";
import type { Run } from "./types.ts";

/** The design cell of a run: runs with equal keys are replicates. */
export function replicateKey(r: Run): string {
  return `${schemeName(r.fwd, r.bwd)}|${r.N}|${r.D}|${r.bits.join(",")}`;
}

/** Indices of `runs` grouped by design cell, cells in order of their first run. */
export function replicateCells(runs: Run[]): number[][] {
  const cells = new Map<string, number[]>();
  runs.forEach((r, i) => {
    const k = replicateKey(r);
    const c = cells.get(k);
    if (c) c.push(i);
    else cells.set(k, [i]);
  });
  return [...cells.values()];
}

/** How replicated a data set is. */
export interface ReplicateSummary {
  /** Design cells. */
  cells: number;
  /** Cells with two or more runs. */
  replicated: number;
  /** Most runs in one cell. */
  maxPerCell: number;
  /**
   * Pooled within-cell standard deviation of ln L (≈ relative seed noise), over replicated cells;
   * NaN when no cell is replicated.
   */
  seedNoise: number;
}

/** Summary of the replicates among `runs`. */
export function replicateSummary(runs: Run[]): ReplicateSummary {
  const cells = replicateCells(runs);
  let ss = 0, dof = 0;
  for (const c of cells) {
    if (c.length < 2) continue;
    const ls = c.map((i) => Math.log(runs[i].L));
    const m = ls.reduce((a, b) => a + b, 0) / ls.length;
    ss += ls.reduce((a, l) => a + (l - m) ** 2, 0);
    dof += ls.length - 1;
  }
  return {
    cells: cells.length,
    replicated: cells.filter((c) => c.length > 1).length,
    maxPerCell: Math.max(0, ...cells.map((c) => c.length)),
    seedNoise: dof ? Math.sqrt(ss / dof) : NaN,
  };
}

/** One replicated cell's spread of observed losses (for error bars). */
export interface SeedSpread {
  scheme: string;
  N: number;
  D: number;
  /** Runs (seeds) in the cell. */
  n: number;
  mean: number;
  min: number;
  max: number;
}

/** The spread of each cell with two or more runs, from points carrying scheme, N, D and observed loss. */
export function seedSpreads(
  points: { scheme: string; N: number; D: number; observed: number }[],
): SeedSpread[] {
  const cells = new Map<string, typeof points>();
  for (const p of points) {
    const k = `${p.scheme}|${p.N}|${p.D}`;
    cells.set(k, [...(cells.get(k) ?? []), p]);
  }
  return [...cells.values()].filter((c) => c.length > 1).map((c) => {
    const ls = c.map((p) => p.observed);
    return {
      scheme: c[0].scheme,
      N: c[0].N,
      D: c[0].D,
      n: c.length,
      mean: ls.reduce((a, b) => a + b, 0) / ls.length,
      min: Math.min(...ls),
      max: Math.max(...ls),
    };
  });
}
