/**
 * Compute frontiers from a fitted law: compute-optimal N*, D* per scheme (closed form for Chinchilla,
 * numeric otherwise), loss-vs-compute curves, the Pareto frontier of observed runs, and Quartet's
 * optimal-precision region map over (N_max, D/N) given inference and training budgets (§3.1).
 * @module
 */
import { type CostModel, type CostScheme, trainingCompute } from "./cost.ts";
import { tableBundle, withDisplay } from "./display.ts";
import { predictor } from "./query.ts";
import { fmt, plainTable } from "./report.ts";
import type { FitResult, Optimum, SchemeInfo } from "./types.ts";

export { chinchillaOptimum } from "./forms/chinchilla.ts";
export type { Optimum } from "./types.ts";

/** The scheme fields the frontier needs. */
export type FrontierScheme = CostScheme & { name: string; bits?: number[] };

/**
 * Numeric optimum: minimise L(N, D(N)) over ln N with N·D fixed by the budget (D = C·sp_tr(N)/(6N)).
 * A log-spaced scan then golden-section refinement, so N-dependent measured speedups are handled too.
 */
export function numericOptimum(
  fit: FitResult,
  s: FrontierScheme,
  C: number,
  cost: CostModel,
  range: [number, number] = [1e2, 1e16],
): Optimum {
  const predict = predictor(fit, { fwd: s.fwd, bwd: s.bwd, bits: s.bits });
  const at = (lnN: number) => {
    const N = Math.exp(lnN), sp = cost.speedups(s, N);
    const D = (C * sp.train) / (6 * N);
    return { N, D, loss: predict(N, D) };
  };
  const lo = Math.log(range[0]), hi = Math.log(range[1]), steps = 200;
  let best = 0, bestL = Infinity;
  for (let k = 0; k <= steps; k++) {
    const l = at(lo + ((hi - lo) * k) / steps).loss;
    if (l < bestL) bestL = l, best = k;
  }
  let a = lo + ((hi - lo) * Math.max(0, best - 1)) / steps,
    b = lo + ((hi - lo) * Math.min(steps, best + 1)) / steps;
  const r = (Math.sqrt(5) - 1) / 2;
  let c = b - r * (b - a), d = a + r * (b - a), fc = at(c).loss, fd = at(d).loss;
  for (let k = 0; k < 100 && b - a > 1e-12; k++) {
    if (fc < fd) b = d, d = c, fd = fc, c = b - r * (b - a), fc = at(c).loss;
    else a = c, c = d, fc = fd, d = a + r * (b - a), fd = at(d).loss;
  }
  return { compute: C, ...at((a + b) / 2) };
}

/** Compute-optimal point of a scheme: the form's closed form with constant speedups, numeric otherwise. */
export function computeOptimum(fit: FitResult, s: FrontierScheme, C: number, cost: CostModel): Optimum {
  if (fit.law.optimum) {
    const sp1 = cost.speedups(s, 1e6).train, sp2 = cost.speedups(s, 1e12).train;
    if (sp1 === sp2) return fit.law.optimum(fit, C, sp1);
  }
  return numericOptimum(fit, s, C, cost);
}

/** Log-spaced values from lo to hi inclusive. */
export function logspace(lo: number, hi: number, n: number): number[] {
  const a = Math.log(lo), b = Math.log(hi);
  return Array.from({ length: n }, (_, k) => Math.exp(a + ((b - a) * k) / Math.max(1, n - 1)));
}

/** One point of a scheme's compute-optimal curve. */
export interface FrontierPoint extends Optimum {
  /** Scheme name ("fwd:bwd"). */
  scheme: string;
}

/** Schemes of a fit that the law can predict (those with every efficiency they need fitted). */
export function predictableSchemes(fit: FitResult): SchemeInfo[] {
  return fit.schemes.filter((s) =>
    Number.isFinite(predictor(fit, { fwd: s.fwd, bwd: s.bwd, bits: s.bits })(1e9, 2e10))
  );
}

/** Compute-optimal loss vs compute for each scheme over [cMin, cMax]. */
export function lossComputeCurves(
  fit: FitResult,
  cost: CostModel,
  cRange: [number, number],
  schemes: FrontierScheme[] = predictableSchemes(fit),
  points = 40,
): FrontierPoint[] {
  const Cs = logspace(cRange[0], cRange[1], points);
  return schemes.flatMap((s) => Cs.map((C) => ({ scheme: s.name, ...computeOptimum(fit, s, C, cost) })));
}

/** An observed run placed on the compute axis. */
export interface ComputePoint {
  /** run_id. */
  id: string;
  /** Scheme name. */
  scheme: string;
  /** Parameter count. */
  N: number;
  /** Training tokens. */
  D: number;
  /** Baseline-equivalent training compute. */
  compute: number;
  /** Observed loss. */
  loss: number;
}

/** Observed runs of a fit with their baseline-equivalent compute. */
export function observedCompute(fit: FitResult, cost: CostModel): ComputePoint[] {
  const byName = new Map(fit.schemes.map((s) => [s.name, s]));
  return fit.predictions.map((p) => {
    const s = byName.get(p.scheme)!;
    return {
      id: p.id,
      scheme: p.scheme,
      N: p.N,
      D: p.D,
      compute: trainingCompute(p.N, p.D, cost.speedups(s, p.N)),
      loss: p.observed,
    };
  });
}

/** Pareto frontier (lowest loss at or below each compute), sorted by compute. */
export function paretoFrontier<T extends { compute: number; loss: number }>(points: T[]): T[] {
  const out: T[] = [];
  let best = Infinity;
  for (const p of [...points].sort((a, b) => a.compute - b.compute || a.loss - b.loss)) {
    if (p.loss < best) out.push(p), best = p.loss;
  }
  return out;
}

/** A configuration competing in the region map. */
export interface RegionCandidate extends FrontierScheme {
  /** Explicit Quartet efficiencies (default: from the fit's labels, separate fits). */
  effN?: number;
  /** Explicit effD. */
  effD?: number;
  /** Use the joint (effN, effD) fit of this fwd:bwd pair instead of the separate ones. */
  joint?: boolean;
}

/** One cell of the region map. */
export interface RegionCell {
  /** Inference budget N_max (parameters at baseline speed). */
  nMax: number;
  /** Training budget as D_max/N_max. */
  ratio: number;
  /** Name of the lowest-loss configuration. */
  best: string;
  /** Its predicted loss. */
  loss: number;
}

/**
 * The paper's four configurations: baseline, the best forward-only label, the best backward-only label and
 * their combination with the separately fitted efficiencies (as in the authors' notebook); plus every
 * jointly fitted pair not already formed that way.
 */
export function regionCandidates(fit: FitResult): RegionCandidate[] {
  const b = fit.baseline;
  const bits = (label: string, side: "fwdBits" | "bwdBits") =>
    fit.schemes.find((s) => (side === "fwdBits" ? s.fwd : s.bwd) === label)?.[side];
  const fwdOnly = Object.entries(fit.effN).filter(([k]) => !k.includes(":")).sort((x, y) => y[1] - x[1])[0];
  const bwdOnly = Object.entries(fit.effD).filter(([k]) => !k.includes(":")).sort((x, y) => y[1] - x[1])[0];
  const out: RegionCandidate[] = [{ name: `${b}:${b}`, fwd: b, bwd: b }];
  if (fwdOnly) {
    out.push({ name: `${fwdOnly[0]}:${b}`, fwd: fwdOnly[0], bwd: b, fwdBits: bits(fwdOnly[0], "fwdBits") });
  }
  if (bwdOnly) {
    out.push({ name: `${b}:${bwdOnly[0]}`, fwd: b, bwd: bwdOnly[0], bwdBits: bits(bwdOnly[0], "bwdBits") });
  }
  if (fwdOnly && bwdOnly) {
    out.push({
      name: `${fwdOnly[0]}:${bwdOnly[0]}`,
      fwd: fwdOnly[0],
      bwd: bwdOnly[0],
      fwdBits: bits(fwdOnly[0], "fwdBits"),
      bwdBits: bits(bwdOnly[0], "bwdBits"),
    });
  }
  // Jointly fitted pairs compete too when the separate fits cannot form them (e.g. no backward-only runs).
  for (const [pair] of Object.entries(fit.effN).filter(([k]) => k.includes(":") && k in fit.effD)) {
    if (out.some((c) => c.name === pair)) continue;
    const [fwd, bwd] = pair.split(":");
    out.push({
      name: pair,
      fwd,
      bwd,
      fwdBits: bits(fwd, "fwdBits"),
      bwdBits: bits(bwd, "bwdBits"),
      joint: true,
    });
  }
  return out;
}

/** Region-map grid settings. */
export interface RegionOptions {
  /** N_max range (default [1e8, 1e11], the paper's). */
  nMax?: [number, number];
  /** D_max/N_max range (default [25, 2200]). */
  ratio?: [number, number];
  /** Cells per axis (default 60). */
  steps?: number;
  /** Configurations to compare (default: regionCandidates). */
  candidates?: RegionCandidate[];
}

/**
 * Optimal-precision regions: for an inference budget N_max (N/sp_fw = N_max) and a training budget
 * N_max·D_max ((N/sp_tr)·D = N_max·D_max), a configuration's loss is L(N_max·sp_fw, D_max·sp_tr/sp_fw).
 */
export function regionMap(fit: FitResult, cost: CostModel, o: RegionOptions = {}): RegionCell[] {
  const cands = o.candidates ?? regionCandidates(fit);
  const steps = o.steps ?? 60;
  const cells: RegionCell[] = [];
  const predict = cands.map((c) =>
    predictor(fit, { fwd: c.fwd, bwd: c.bwd, bits: c.bits, effN: c.effN, effD: c.effD, separate: !c.joint })
  );
  for (const nMax of logspace(...(o.nMax ?? [1e8, 1e11]), steps)) {
    const sps = cands.map((c) => cost.speedups(c, nMax));
    for (const ratio of logspace(...(o.ratio ?? [25, 2200]), steps)) {
      let best = "", loss = Infinity;
      cands.forEach((c, k) => {
        const sp = sps[k];
        const l = predict[k](nMax * sp.fwd, ratio * nMax * sp.train / sp.fwd);
        if (l < loss) loss = l, best = c.name;
      });
      cells.push({ nMax, ratio, best, loss });
    }
  }
  return cells;
}

/** Everything the compute charts need, from one fit and one cost model. */
export interface Frontier {
  /** Cost model name. */
  cost: string;
  /** Law form of the fit. */
  form: string;
  /** Compute range of the curves (FLOPs). */
  computeRange: [number, number];
  /** Compute-optimal curves per scheme. */
  curves: FrontierPoint[];
  /** Observed runs on the compute axis. */
  observed: ComputePoint[];
  /** Pareto frontier of the observed runs. */
  pareto: ComputePoint[];
  /** Compute-optimal N*, D*, loss per scheme at each decade of compute in the range. */
  optima: FrontierPoint[];
  /** Optimal-precision region map (Quartet form only). */
  regions?: RegionCell[];
  /** The region map's candidates. */
  regionCandidates?: string[];
}

/** Frontier settings. */
export interface FrontierOptions {
  /** Compute range (default: observed runs' range, widened 10× upwards). */
  computeRange?: [number, number];
  /** Points per curve (default 40). */
  points?: number;
  /** Region map settings; false to skip (default: computed for Quartet fits). */
  regions?: RegionOptions | false;
}

/** Builds curves, Pareto frontier, optima table and (Quartet) region map; renders itself in Jupyter. */
export function frontier(fit: FitResult, cost: CostModel, o: FrontierOptions = {}): Frontier {
  if (!fit.law.frontier) throw new Error(`the ${fit.form} form (${fit.law.target}) has no compute frontier`);
  const observed = observedCompute(fit, cost);
  const cs = observed.map((p) => p.compute);
  const range: [number, number] = o.computeRange ??
    (cs.length ? [Math.min(...cs) / 2, Math.max(...cs) * 10] : [1e15, 1e21]);
  const curves = lossComputeCurves(fit, cost, range, predictableSchemes(fit), o.points ?? 40);
  const decades: number[] = [];
  for (let e = Math.ceil(Math.log10(range[0])); e <= Math.floor(Math.log10(range[1])); e++) {
    decades.push(10 ** e);
  }
  const optima = predictableSchemes(fit).flatMap((s) =>
    decades.map((C) => ({ scheme: s.name, ...computeOptimum(fit, s, C, cost) }))
  );
  const f: Frontier = {
    cost: cost.name,
    form: fit.form,
    computeRange: range,
    curves,
    observed,
    pareto: paretoFrontier(observed),
    optima,
  };
  if (fit.law.regions && o.regions !== false) {
    const cands = (o.regions && o.regions.candidates) || regionCandidates(fit);
    f.regions = regionMap(fit, cost, { ...(o.regions || {}), candidates: cands });
    f.regionCandidates = cands.map((c) => c.name);
  }
  return withDisplay(f, frontierBundle);
}

/** Rows [scheme, C, N*, D*, D*:N*, loss] of the optima table. */
export function optimaRows(f: Frontier): string[][] {
  return f.optima.map((o) => [o.scheme, fmt(o.compute), fmt(o.N), fmt(o.D), fmt(o.D / o.N), fmt(o.loss)]);
}

function frontierBundle(f: Frontier) {
  const header = ["scheme", "compute C", "N*", "D*", "D*/N*", "loss"];
  const caption = `Compute-optimal allocations (${f.form} law, ${f.cost} cost model)`;
  return tableBundle(header, optimaRows(f), `${caption}\n${plainTable(header, optimaRows(f))}`, caption);
}
