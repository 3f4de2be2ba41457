/**
 * Multi-start minimisation: a short L-BFGS run from every grid start, then a long polish of the few best
 * distinct end points. The polish is what takes noise-free fits to 1e-4 relative accuracy; the short
 * first phase is what keeps a several-thousand-start grid within seconds. Grids of more than 1,000 starts
 * (Hoffmann's 4,500) are screened first: every start runs 2 iterations and only the best 5 % continue.
 * @module
 */
import { FitInputError } from "./errors.ts";
import type { LawData, LawForm } from "./types.ts";
import { lbfgs, type LbfgsOptions } from "./lbfgs.ts";
import { makeObjective } from "./objective.ts";

/** Options of one multi-start fit over some free coordinates of θ. */
export interface MultiStartOptions {
  /** Huber δ. */
  delta: number;
  /** Starting points, in free coordinates. */
  starts: number[][];
  /** θ template holding the frozen entries (default zeros, as long as a start). */
  theta?: Float64Array;
  /** Free indices of θ (default all). */
  free?: number[];
  /** Per-point multiplicities. */
  weights?: Float64Array;
  /**
   * Indices of θ (free ones) kept positive by optimizing their logarithm. Starts and results stay in θ
   * coordinates; a start ≤ `positiveFloor` is moved up to it (default 0.1: ln 0 does not exist).
   */
  positive?: number[];
  /** Smallest starting value of a positive coordinate (default 0.1). */
  positiveFloor?: number;
  /** How many distinct best end points to polish (default 4). */
  keep?: number;
  /** Phase-1 settings (default 120 iterations, ftol 1e-9). */
  explore?: LbfgsOptions;
  /** Polish settings (default 3000 iterations, ftol 1e-15). */
  polish?: LbfgsOptions;
  /**
   * Screening of large grids: with more than `above` starts (default 1000), every start first runs
   * `iterations` L-BFGS iterations (default 2); only the best `keep` fraction (default 0.05, at least 50)
   * continue to the explore settings. false: no screening.
   */
  screen?: { above?: number; iterations?: number; keep?: number } | false;
}

/** Best point found. */
export interface MultiStartResult {
  /** Full θ at the optimum. */
  theta: Float64Array;
  /** Objective value there. */
  objective: number;
  /** Number of starts tried. */
  starts: number;
  /** Whether the polish of the winner met its tolerance. */
  converged: boolean;
}

/** Runs the two phases and returns the lowest objective found. */
export function multiStart(form: LawForm, data: LawData, o: MultiStartOptions): MultiStartResult {
  const p = o.theta ? o.theta.length : o.starts[0].length;
  const theta = o.theta ? Float64Array.from(o.theta) : new Float64Array(p);
  const free = o.free ?? [...Array(p).keys()];
  const positive = o.positive ?? [];
  const f = makeObjective(form, data, { delta: o.delta, theta, free, weights: o.weights, positive });
  const isPos = free.map((idx) => positive.includes(idx));
  const floor = o.positiveFloor ?? 0.1;
  const toX = (s: number[]) => s.map((v, k) => (isPos[k] ? Math.log(Math.max(v, floor)) : v));
  const explore = { maxIter: 120, ftol: 1e-9, ...o.explore };
  const polish = { maxIter: 3000, ftol: 1e-15, ...o.polish };
  const ends: { x: Float64Array; f: number }[] = [];
  const sc = o.screen === false ? null : { above: 1000, iterations: 2, keep: 0.05, ...o.screen };
  if (sc && o.starts.length > sc.above) {
    const screened = o.starts.map((s) => lbfgs(f, toX(s), { ...explore, maxIter: sc.iterations }))
      .filter((r) => Number.isFinite(r.f)).sort((a, b) => a.f - b.f);
    const rest = { ...explore, maxIter: Math.max(1, (explore.maxIter ?? 120) - sc.iterations) };
    for (const r of screened.slice(0, Math.max(50, Math.ceil(sc.keep * o.starts.length)))) {
      const e = r.converged ? r : lbfgs(f, r.x, rest);
      if (Number.isFinite(e.f)) ends.push({ x: e.x, f: e.f });
    }
  } else {
    for (const s of o.starts) {
      const r = lbfgs(f, toX(s), explore);
      if (Number.isFinite(r.f)) ends.push({ x: r.x, f: r.f });
    }
  }
  if (ends.length === 0) {
    throw new FitInputError(`the ${form.name} form gives a non-finite objective from every start`);
  }
  ends.sort((a, b) => a.f - b.f);
  const picked: Float64Array[] = [];
  for (const e of ends) {
    if (picked.length >= (o.keep ?? 4)) break;
    const dup = picked.some((q) => q.every((v, k) => Math.abs(v - e.x[k]) <= 1e-6 * (1 + Math.abs(v))));
    if (!dup) picked.push(e.x);
  }
  let best = { x: picked[0], f: Infinity, converged: false };
  for (const x of picked) {
    const r = lbfgs(f, x, polish);
    if (r.f < best.f) best = { x: r.x, f: r.f, converged: r.converged };
  }
  const out = Float64Array.from(theta);
  free.forEach((idx, k) => (out[idx] = isPos[k] ? Math.exp(best.x[k]) : best.x[k]));
  return { theta: out, objective: best.f, starts: o.starts.length, converged: best.converged };
}

/** Cartesian product of value lists. */
export function grid(...axes: number[][]): number[][] {
  let out: number[][] = [[]];
  for (const ax of axes) out = out.flatMap((p) => ax.map((v) => [...p, v]));
  return out;
}

/** lo, lo + step, …, hi (rounded to 1e-9, so 0.1-steps stay exact). */
export function steps(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let v = lo; v <= hi + 1e-9; v += step) out.push(Math.round(v * 1e9) / 1e9);
  return out;
}
