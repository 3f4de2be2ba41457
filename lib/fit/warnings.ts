/**
 * Diagnostics of a fitted law: the reasons a researcher should not trust it. Each warning is one
 * self-contained sentence; an empty list means none of the checks fired (not that the law is right).
 *
 * Checks: exponents at (or beyond) their lower bound 0, constants outside any sane range, E at or above the
 * smallest observed loss, efficiencies at the edge of their range, fewer than two points per parameter in
 * a stage, too few distinct sizes or token ratios, bootstrap intervals wider than a factor, and a large
 * leave-largest-model-out extrapolation error.
 * @module
 */
import type { FitResult, Interval } from "./fit.ts";

/** Thresholds of the checks. */
export interface WarningOptions {
  /** An exponent below this counts as at its bound 0 (default 0.01). */
  minExponent?: number;
  /** An exponent above this is implausible: its term is switched off rather than fitted (default 3). */
  maxExponent?: number;
  /** Points per fitted parameter below which a stage is ill-determined (default 2). */
  pointsPerParam?: number;
  /** Bootstrap high/low ratio above which an exponent, E or an efficiency is flagged (default 10). */
  ciFactor?: number;
  /** The same for the scale constants A and B, which trade off with the exponents (default 1e3). */
  ciFactorScale?: number;
  /** Mean |relative error| of the leave-largest-model-out prediction that is flagged (default 0.02). */
  extrapolationTolerance?: number;
  /** An efficiency above this is flagged as beating the baseline by more than noise (default 1.25). */
  maxEfficiency?: number;
  /** An efficiency below this is flagged as at its lower edge (default 1e-3). */
  minEfficiency?: number;
}

const fmt = (
  v: number,
) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toPrecision(3));

/** Parameters per base fit of a form. */
function baseParams(fit: FitResult): number {
  if (fit.form === "quartet") return 6;
  return 5 + (fit.form === "kumar" ? fit.bitsColumns.length : 0);
}

/** The warnings of a fit (recompute after attaching `ci` / `extrapolation`). */
export function fitWarnings(fit: FitResult, o: WarningOptions = {}): string[] {
  const minExp = o.minExponent ?? 0.01, maxExp = o.maxExponent ?? 3, ppp = o.pointsPerParam ?? 2;
  const ciFactor = o.ciFactor ?? 10, ciScale = o.ciFactorScale ?? 1e3;
  const tol = o.extrapolationTolerance ?? 0.02;
  const maxEff = o.maxEfficiency ?? 1.25, minEff = o.minEfficiency ?? 1e-3;
  const out: string[] = [];
  const p = fit.params;

  // Exponents.
  const exps = ["alpha", "beta", ...(fit.form === "quartet" ? ["gamma"] : [])];
  for (const k of exps) {
    const v = p[k];
    if (!(v > 0)) {
      out.push(`${k} = ${fmt(v)} is not positive: not a scaling law (fit without --unconstrained)`);
    } else if (v < minExp) {
      out.push(
        `${k} = ${fmt(v)} is at its lower bound 0: the data do not show the loss falling with ` +
          `${k === "alpha" ? "model size" : k === "beta" ? "training tokens" : "N and D"}`,
      );
    } else if (v > maxExp) {
      out.push(
        `${k} = ${fmt(v)} is implausibly large (> ${maxExp}): its term is switched off, not fitted`,
      );
    }
  }
  // Scale constants: ln A, ln B far outside anything a law can mean.
  for (const k of ["A", "B"]) {
    const v = p[k];
    if (!(v > 0) || !Number.isFinite(v) || Math.abs(Math.log10(v)) > 30) {
      out.push(`${k} = ${fmt(v)} is outside any physical range: the fit is degenerate`);
    }
  }
  // E against the losses it should sit below.
  const baseObs = fit.predictions.filter((q) => q.group === "baseline" || q.group === "all").map((q) =>
    q.observed
  );
  if (baseObs.length) {
    const minL = Math.min(...baseObs);
    if (p.E >= 0.999 * minL) {
      out.push(
        `E = ${fmt(p.E)} is not below the smallest baseline loss ${fmt(minL)}: no reducible loss left`,
      );
    } else if (p.E < 0.01 * minL) {
      out.push(`E = ${fmt(p.E)} is at its lower bound 0: the irreducible loss is not determined`);
    }
  }
  // Efficiencies.
  for (const [kind, m] of [["effN", fit.effN], ["effD", fit.effD]] as const) {
    for (const [label, v] of Object.entries(m)) {
      if (fit.form === "kumar") continue; // derived from γ, checked there
      if (!(v > minEff)) out.push(`${kind} ${label} = ${fmt(v)} is at its lower edge 0`);
      else if (v > maxEff) {
        out.push(
          `${kind} ${label} = ${
            fmt(v)
          } > 1: the quantized runs beat the baseline by more than the law allows ` +
            `(noise, or a baseline that is not the best recipe)`,
        );
      }
    }
  }
  // Points per parameter, per stage.
  const nBase = baseObs.length, pBase = baseParams(fit);
  if (nBase < ppp * pBase) {
    out.push(
      `ill-determined: ${nBase} ${fit.form === "quartet" ? "baseline " : ""}points for ${pBase} parameters ` +
        `(fewer than ${ppp} per parameter)`,
    );
  }
  const baseRuns = fit.predictions.filter((q) => q.group === "baseline" || q.group === "all");
  const sizes = new Set(baseRuns.map((q) => q.N)).size;
  const ratios = new Set(baseRuns.map((q) => (q.D / q.N).toPrecision(3))).size;
  if (sizes < 3) out.push(`only ${sizes} model size(s) in the base fit: α is not determined (need ≥ 3)`);
  if (ratios < 3 && new Set(baseRuns.map((q) => q.D)).size < 3) {
    out.push(`only ${ratios} token budget(s) in the base fit: β is not determined (need ≥ 3)`);
  }
  for (const key of Object.keys(fit.objectives)) {
    if (key === "base") continue;
    const [kind, ...rest] = key.split(":");
    const label = rest.join(":");
    const n = fit.predictions.filter((q) =>
      kind === "effN"
        ? q.group === "forward" && q.fwd === label
        : kind === "effD"
        ? q.group === "backward" && q.bwd === label
        : q.group === "joint" && `${q.fwd}:${q.bwd}` === label
    ).length;
    const k = kind === "joint" ? 2 : 1;
    if (n < ppp * k) {
      out.push(`ill-determined: ${n} runs of ${label} for ${k} efficiency parameter(s)`);
    }
  }
  // Bootstrap intervals.
  if (fit.ci) {
    const wide = (name: string, iv: Interval, factor: number) => {
      const [lo, hi] = iv;
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
        out.push(`${name}: bootstrap interval is not finite`);
      } else if (lo <= 0 ? hi > 0 : hi / lo > factor) {
        out.push(
          `${name}: ${Math.round(fit.ci!.level * 100)}% bootstrap interval [${fmt(lo)}, ${
            fmt(hi)
          }] spans more ` +
            `than ${fmt(factor)}×`,
        );
      }
    };
    for (const [k, iv] of Object.entries(fit.ci.params)) {
      wide(k, iv, k === "A" || k === "B" ? ciScale : ciFactor);
    }
    for (const [k, iv] of Object.entries(fit.ci.effN)) wide(`effN ${k}`, iv, ciFactor);
    for (const [k, iv] of Object.entries(fit.ci.effD)) wide(`effD ${k}`, iv, ciFactor);
  }
  // Extrapolation.
  const x = fit.extrapolation;
  if (x && x.meanAbsRelError > tol) {
    out.push(
      `leave-largest-model-out: the fit without N = ${fmt(x.heldOutN)} predicts it with mean |rel. error| ` +
        `${(100 * x.meanAbsRelError).toFixed(1)}% (> ${(100 * tol).toFixed(0)}%)`,
    );
  }
  return out;
}
