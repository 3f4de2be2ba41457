/**
 * Diagnostics of a fitted law: the reasons a researcher should not trust it. Each warning is one
 * self-contained sentence; an empty list means none of the checks fired (not that the law is right).
 *
 * Checks for every form: exponents at (or beyond) their lower bound 0 or implausibly large, fewer than two
 * points per parameter in the base fit, too few distinct sizes or token budgets, bootstrap intervals wider
 * than `ciWidth` (default 0.5) times the estimate (scale constants: high/low above `ciFactorScale`,
 * default 1000), and a large leave-largest-model-out error. Then the form's own checks (E below the
 * smallest loss, A and B in range, efficiencies in range, points per efficiency).
 * @module
 */
import { fmtw } from "./forms/common.ts";
import type { FitResult, Interval, WarningOptions } from "./types.ts";

export type { WarningOptions } from "./types.ts";

/** The warnings of a fit (recompute after attaching `ci` / `extrapolation`); options default to the fit's own. */
export function fitWarnings(fit: FitResult, o: WarningOptions = fit.warningOptions ?? {}): string[] {
  const minExp = o.minExponent ?? 0.01, maxExp = o.maxExponent ?? 3, ppp = o.pointsPerParam ?? 2;
  const ciWidth = o.ciWidth ?? 0.5, ciScale = o.ciFactorScale ?? 1e3;
  const tol = o.extrapolationTolerance ?? 0.02;
  const out: string[] = [];
  const p = fit.params, layout = fit.law.layout(fit.context);

  // Exponents.
  const what: Record<string, string> = { alpha: "model size", beta: "training tokens", gamma: "N and D" };
  for (const k of layout.exponents.map((i) => layout.names[i]).filter((n) => n in p)) {
    const v = p[k];
    if (!(v > 0)) {
      out.push(`${k} = ${fmtw(v)} is not positive: not a scaling law (fit without --unconstrained)`);
    } else if (v < minExp) {
      out.push(
        `${k} = ${fmtw(v)} is at its lower bound 0: the data do not show the ${fit.law.target} ` +
          `${k in what ? `falling with ${what[k]}` : `depending on it`}`,
      );
    } else if (v > maxExp) {
      out.push(`${k} = ${fmtw(v)} is implausibly large (> ${maxExp}): its term is switched off, not fitted`);
    }
  }
  out.push(...fit.law.warnings(fit, o));
  // Points per parameter in the base fit; sizes and budgets.
  const baseRuns = fit.predictions.filter((q) => q.group === "baseline" || q.group === "all");
  const nBase = baseRuns.length,
    pBase = (layout.base ?? layout.names).length -
      Object.keys(fit.fixed ?? {}).length;
  if (fit.predictions.length && nBase < ppp * pBase) {
    out.push(
      `ill-determined: ${nBase} ${baseRuns[0]?.group === "baseline" ? "baseline " : ""}points for ${pBase} ` +
        `parameters (fewer than ${ppp} per parameter)`,
    );
  }
  if (fit.predictions.length) {
    const sizes = new Set(baseRuns.map((q) => q.N)).size;
    const ratios = new Set(baseRuns.map((q) => (q.D / q.N).toPrecision(3))).size;
    if (sizes < 3) out.push(`only ${sizes} model size(s) in the base fit: α is not determined (need ≥ 3)`);
    if (ratios < 3 && new Set(baseRuns.map((q) => q.D)).size < 3) {
      out.push(`only ${ratios} token budget(s) in the base fit: β is not determined (need ≥ 3)`);
    }
  }
  // Bootstrap intervals.
  if (fit.ci) {
    const level = `${Math.round(fit.ci.level * 100)}%`;
    const check = (name: string, iv: Interval, est: number, scale: boolean) => {
      const [lo, hi] = iv;
      const span = `${level} bootstrap interval [${fmtw(lo)}, ${fmtw(hi)}]`;
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) out.push(`${name}: ${span} is not finite`);
      else if (scale) {
        if (lo <= 0 ? hi > 0 : hi / lo > ciScale) {
          out.push(`${name}: ${span} spans more than ${fmtw(ciScale)}×`);
        }
      } else if ((hi - lo) > ciWidth * Math.abs(est)) {
        out.push(
          `${name}: ${span} spans ${fmtw((hi - lo) / Math.abs(est))}× the estimate ${fmtw(est)} ` +
            `(more than ${fmtw(ciWidth)}×)`,
        );
      }
    };
    for (const [k, iv] of Object.entries(fit.ci.params)) check(k, iv, p[k], fit.law.scaleParams.includes(k));
    for (const [k, iv] of Object.entries(fit.ci.effN)) check(`effN ${k}`, iv, fit.effN[k], false);
    for (const [k, iv] of Object.entries(fit.ci.effD)) check(`effD ${k}`, iv, fit.effD[k], false);
  }
  // Extrapolation.
  const x = fit.extrapolation;
  if (x && x.meanAbsRelError > tol) {
    out.push(
      `leave-largest-model-out: the fit without N = ${fmtw(x.heldOutN)} predicts it with mean |rel. error| ` +
        `${(100 * x.meanAbsRelError).toFixed(1)}% (> ${(100 * tol).toFixed(0)}%)`,
    );
  }
  return out;
}
