/**
 * Kumar et al. (2024) post-training quantization degradation: δ = C_T·D^γD/N^γN·e^(−P/γpost), the loss
 * increase from quantizing a trained model to P bits. The loss column holds δ, the first precision column P
 * (`--loss-col delta --bits-col P`). θ = [ln C_T, γN, γD, ln γpost]; ln δ is linear in all but γpost.
 * @module
 */
import { defineForm } from "../law.ts";
import { grid } from "../multistart.ts";
import type { LawForm } from "../types.ts";

/** ln C_T ∈ {−5, 0, 5}, γN, γD ∈ {0.1, 0.3, 0.6}, ln γpost ∈ {0, 1, 2}: 81 starts. */
export function kumarPtqGrid(): number[][] {
  return grid([-5, 0, 5], [0.1, 0.3, 0.6], [0.1, 0.3, 0.6], [0, 1, 2]);
}

/** The Kumar post-training-quantization form. */
export const kumarPtq: LawForm = defineForm({
  name: "kumar-ptq",
  summary: "δ = C_T·D^γD/N^γN·e^(−P/γpost)",
  target: "PTQ degradation δ",
  reads: { labels: "none", bits: true },
  scaleParams: ["C_T"],
  frontier: false,
  names: ["lnC", "gammaN", "gammaD", "lnGammaPost"],
  exponents: ["gammaN", "gammaD"],
  starts: kumarPtqGrid,
  gradient: true,
  lnPredict(t, d, i, g) {
    const lnN = d.lnN[i], lnD = d.lnD[i], p = d.bits[0][i], q = p * Math.exp(-t[3]);
    if (g) g[0] = 1, g[1] = -lnN, g[2] = lnD, g[3] = q;
    return t[0] - t[1] * lnN + t[2] * lnD - q;
  },
  params: (t) => ({ C_T: Math.exp(t[0]), gammaN: t[1], gammaD: t[2], gammaPost: Math.exp(t[3]) }),
  theta: (p) => [Math.log(p.C_T), p.gammaN, p.gammaD, Math.log(p.gammaPost)],
  scheme: (fit, q) => ({ theta: Float64Array.from(fit.theta), bits: q.bits ?? [NaN], label: -1 }),
});
