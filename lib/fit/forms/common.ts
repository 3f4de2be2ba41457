/**
 * Pieces shared by the loss-law forms: the three-term log-sum-exp E + A/N_eff^α + B/D^β with its gradient
 * (Chinchilla, Kumar and QuEST differ only in N_eff), the public parameters of that family, and the checks
 * on E, A, B and efficiencies.
 * @module
 */
import type { FitResult, WarningOptions } from "../types.ts";

/**
 * ln(E + A/N_eff^α + B/D^β) with θ = [ln A, α, ln B, β, ln E] in θ[0..4], evaluated with log-sum-exp.
 * Writes d/dθ[0..4] into g when given (g[0] is then the weight of the A term, which callers chain through
 * N_eff: d ln L̂/d ln N_eff = −α·g[0]).
 */
export function threeTerm(t: Float64Array, lnNeff: number, lnD: number, g: Float64Array | null): number {
  const u0 = t[4], u1 = t[0] - t[1] * lnNeff, u2 = t[2] - t[3] * lnD;
  const m = Math.max(u0, u1, u2);
  // The largest term is e^0 = 1 exactly: two exponentials per point instead of three, same bits (an
  // infinite m keeps e^(m − m) = NaN, as the line search expects from an overflowed trial point).
  const f = m - m === 0;
  const x0 = f && u0 === m ? 1 : Math.exp(u0 - m), x1 = f && u1 === m ? 1 : Math.exp(u1 - m);
  const x2 = f && u2 === m ? 1 : Math.exp(u2 - m);
  const s = x0 + x1 + x2;
  if (g) {
    const w0 = x0 / s, w1 = x1 / s, w2 = x2 / s;
    g[0] = w1;
    g[1] = -w1 * lnNeff;
    g[2] = w2;
    g[3] = -w2 * lnD;
    g[4] = w0;
  }
  return m + Math.log(s);
}

/** θ names of the three-term family. */
export const BASE_NAMES = ["a", "alpha", "b", "beta", "e"];

/** Public E, A, B, alpha, beta from θ[0..4]. */
export function baseParams(t: Float64Array | number[]): Record<string, number> {
  return { E: Math.exp(t[4]), A: Math.exp(t[0]), B: Math.exp(t[2]), alpha: t[1], beta: t[3] };
}

/** θ[0..4] from public E, A, B, alpha, beta. */
export function baseTheta(p: Record<string, number>): number[] {
  return [Math.log(p.A), p.alpha, Math.log(p.B), p.beta, Math.log(p.E)];
}

/** Number formatting inside warning sentences. */
export const fmtw = (
  v: number,
) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toPrecision(3));

/** Observed losses of the base fit's runs. */
export function baseObserved(fit: FitResult): number[] {
  return fit.predictions.filter((q) => q.group === "baseline" || q.group === "all").map((q) => q.observed);
}

/** A and B within a physical range; E below the smallest base loss and not at 0. */
export function lossLawWarnings(fit: FitResult): string[] {
  const out: string[] = [], p = fit.params;
  for (const k of ["A", "B"]) {
    const v = p[k];
    if (!(v > 0) || !Number.isFinite(v) || Math.abs(Math.log10(v)) > 30) {
      out.push(`${k} = ${fmtw(v)} is outside any physical range: the fit is degenerate`);
    }
  }
  const obs = baseObserved(fit);
  if (obs.length) {
    const minL = Math.min(...obs);
    if (p.E >= 0.999 * minL) {
      out.push(
        `E = ${fmtw(p.E)} is not below the smallest baseline loss ${fmtw(minL)}: no reducible loss left`,
      );
    } else if (p.E < 0.01 * minL) {
      out.push(`E = ${fmtw(p.E)} is at its lower bound 0: the irreducible loss is not determined`);
    }
  }
  return out;
}

/** Fitted efficiencies at their lower edge or above the baseline by more than noise. */
export function efficiencyWarnings(fit: FitResult, o: WarningOptions): string[] {
  const maxEff = o.maxEfficiency ?? 1.25, minEff = o.minEfficiency ?? 1e-3;
  const out: string[] = [];
  for (const [kind, m] of [["effN", fit.effN], ["effD", fit.effD]] as const) {
    for (const [label, v] of Object.entries(m)) {
      if (!(v > minEff)) out.push(`${kind} ${label} = ${fmtw(v)} is at its lower edge 0`);
      else if (v > maxEff) {
        out.push(
          `${kind} ${label} = ${
            fmtw(v)
          } > 1: the quantized runs beat the baseline by more than the law allows ` +
            `(noise, or a baseline that is not the best recipe)`,
        );
      }
    }
  }
  return out;
}
