/**
 * Kumar et al. (2024) precision-aware form: L = E + A/N_eff^α + B/D^β, N_eff = N·∏ₖ(1 − e^(−Pₖ/γₖ)) with one
 * γ per precision column, θ = [ln A, α, ln B, β, ln E, ln γ₁, …], fitted on all runs together.
 * @module
 */
import { defineForm } from "../law.ts";
import { grid } from "../multistart.ts";
import type { FitResult, FormContext, LawForm } from "../types.ts";
import { BASE_NAMES, baseParams, baseTheta, lossLawWarnings, threeTerm } from "./common.ts";

/**
 * A coarser Chinchilla-like grid times ln γ ∈ {0, 1, 2} per precision column: a, b ∈ {0, 10, 20},
 * α, β ∈ {0, 0.5, 1}, e ∈ {−1, 0, 1} (729 starts for one column; Kumar data sets have many more points).
 */
export function kumarGrid(precisions: number): number[][] {
  const g = Array.from({ length: precisions }, () => [0, 1, 2]);
  return grid([0, 10, 20], [0, 0.5, 1], [0, 10, 20], [0, 0.5, 1], [-1, 0, 1], ...g);
}

/** Public name of the γ of precision column k. */
const gammaName = (cols: string[], k: number) => (cols.length === 1 ? "gamma" : `gamma_${cols[k]}`);

/** N_eff/N = ∏ₖ(1 − e^(−Pₖ/γₖ)) for γs. */
export function kumarEffOf(gammas: number[], bits: number[]): number {
  return bits.reduce((acc, b, k) => acc * -Math.expm1(-b / gammas[k]), 1);
}

/** Kumar's N_eff/N for a fit's γs and a scheme's bits. */
export function kumarEff(fit: FitResult, bits: number[]): number {
  return kumarEffOf(fit.bitsColumns.map((_, k) => fit.params[gammaName(fit.bitsColumns, k)]), bits);
}

let gu = new Float64Array(8); // scratch: d ln(1 − e^(−u))/d ln γ per column, no allocation in the inner loop

/** The Kumar form. */
export const kumar: LawForm = defineForm({
  name: "kumar",
  summary: "L = E + A/(N·∏(1 − e^(−P/γ)))^α + B/D^β",
  reads: { labels: "optional", bits: true },
  scaleParams: ["A", "B"],
  names: (ctx: FormContext) => [...BASE_NAMES, ...ctx.bitsColumns.map((_, k) => `lnGamma${k}`)],
  exponents: ["alpha", "beta"],
  starts: (ctx) => kumarGrid(ctx.bitsColumns.length),
  gradient: true,
  lnPredict(t, d, i, g) {
    const precisions = d.bits.length;
    if (gu.length < precisions) gu = new Float64Array(precisions);
    let lnNeff = d.lnN[i];
    for (let k = 0; k < precisions; k++) {
      const u = d.bits[k][i] * Math.exp(-t[5 + k]);
      const em = Math.expm1(-u); // e^(−u) − 1, exact for small u
      lnNeff += Math.log(-em);
      // d ln(1 − e^(−u)) / d ln γ = −u·e^(−u)/(1 − e^(−u)); kept for the gradient below.
      gu[k] = (u * (1 + em)) / -em;
    }
    const v = threeTerm(t, lnNeff, d.lnD[i], g ?? null);
    if (g) { for (let k = 0; k < precisions; k++) g[5 + k] = g[0] * t[1] * gu[k]; // ln L̂ carries −α·w1·(−gu)
     }
    return v;
  },
  params(t, ctx) {
    const p = baseParams(t);
    ctx.bitsColumns.forEach((_, k) => (p[gammaName(ctx.bitsColumns, k)] = Math.exp(t[5 + k])));
    return p;
  },
  theta: (
    p,
    ctx,
  ) => [...baseTheta(p), ...ctx.bitsColumns.map((_, k) => Math.log(p[gammaName(ctx.bitsColumns, k)]))],
  efficiencies(t, ctx, schemes) {
    const gammas = ctx.bitsColumns.map((_, k) => Math.exp(t[5 + k]));
    const effN: Record<string, number> = {};
    for (const s of schemes) if (s.fwd !== "" && !(s.fwd in effN)) effN[s.fwd] = kumarEffOf(gammas, s.bits);
    return { effN, effD: {} };
  },
  scheme: (fit, q) => ({
    theta: Float64Array.from(fit.theta),
    bits: q.bits && q.bits.length ? q.bits : fit.bitsColumns.map(() => Infinity),
    label: -1,
  }),
  warnings: lossLawWarnings,
});
