/**
 * QuEST (Panferov et al. 2025): L = A/(N·eff(P))^α + B/D^β + E with one parameter efficiency per label
 * (the baseline's fixed at 1), fitted jointly with the base constants on all runs; no outer exponent γ.
 * θ = [ln A, α, ln B, β, ln E, ln eff₁, …]. A run's label is its forward label when its backward pass is
 * the baseline's (or the data has no backward column), else "fwd:bwd"; `--json` reports them under effN.
 * @module
 */
import { defineForm, effLabel } from "../law.ts";
import { grid } from "../multistart.ts";
import type { FormContext, LawForm } from "../types.ts";
import {
  BASE_NAMES,
  baseParams,
  baseTheta,
  efficiencyWarnings,
  lossLawWarnings,
  threeTerm,
} from "./common.ts";

/** a, b ∈ {0, 10, 20}, α, β ∈ {0, 0.5, 1}, e ∈ {−1, 0, 1}, every ln eff 0 or ln ½ together: 486 starts. */
export function questGrid(labels: number): number[][] {
  const base = grid([0, 10, 20], [0, 0.5, 1], [0, 10, 20], [0, 0.5, 1], [-1, 0, 1]);
  return [0, Math.log(0.5)].flatMap((e) => base.map((s) => [...s, ...Array(labels).fill(e)]));
}

/** The QuEST form. */
export const quest: LawForm = defineForm({
  name: "quest",
  summary: "L = A/(N·eff(P))^α + B/D^β + E",
  reads: { labels: "fwd", bits: false },
  scaleParams: ["A", "B"],
  names: (ctx: FormContext) => [...BASE_NAMES, ...ctx.labels.map((l) => `lnEff[${l}]`)],
  exponents: ["alpha", "beta"],
  starts: (ctx) => questGrid(ctx.labels.length),
  gradient: true,
  lnPredict(t, d, i, g) {
    const lab = d.label[i];
    const v = threeTerm(t, d.lnN[i] + (lab >= 0 ? t[5 + lab] : 0), d.lnD[i], g ?? null);
    if (g) {
      for (let k = 5; k < g.length; k++) g[k] = 0;
      if (lab >= 0) g[5 + lab] = -g[0] * t[1]; // d ln L̂/d ln eff = d ln L̂/d ln N_eff = −α·w_A
    }
    return v;
  },
  params: (t) => baseParams(t),
  theta: (p, ctx, eff) => [...baseTheta(p), ...ctx.labels.map((l) => Math.log(eff.effN[l] ?? 1))],
  efficiencies: (t, ctx) => ({
    effN: Object.fromEntries(ctx.labels.map((l, k) => [l, Math.exp(t[5 + k])])),
    effD: {},
  }),
  scheme(fit, q) {
    const labels = fit.context.labels, theta = [...fit.theta];
    let label = -1;
    if (q.effN !== undefined) {
      label = labels.length, theta[5 + label] = Math.log(q.effN);
    } else {
      const l = effLabel({ fwd: q.fwd ?? fit.baseline, bwd: q.bwd ?? fit.baseline }, fit.baseline);
      if (l !== "") {
        label = labels.indexOf(l);
        if (label < 0) label = labels.length, theta[5 + label] = NaN; // no fitted efficiency
      }
    }
    return { theta: Float64Array.from(theta), bits: [], label };
  },
  warnings: (fit, o) => [...lossLawWarnings(fit), ...efficiencyWarnings(fit, o)],
});
