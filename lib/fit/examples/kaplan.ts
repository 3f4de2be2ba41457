/**
 * A user law form, as `deno task fit INPUT --form ./lib/fit/examples/kaplan.ts` loads it: Kaplan et al.
 * (2020) eq. 1.5, L = ((Nc/N)^(αN/αD) + Dc/D)^αD. It gives no gradient, so the fitter takes central
 * finite differences. This file is the README's example; copy it to start your own.
 * @module
 */
import type { FormSpec } from "../law.ts";

/** The Kaplan form: θ = [ln Nc, αN, ln Dc, αD]. */
const kaplan: FormSpec = {
  name: "kaplan",
  summary: "L = ((Nc/N)^(αN/αD) + Dc/D)^αD",
  names: ["lnNc", "alphaN", "lnDc", "alphaD"], // θ, in the order lnPredict reads it
  exponents: ["alphaN", "alphaD"], // kept positive (fitted as logs)
  starts: [20, 30, 40].flatMap((n) => [20, 30, 40].flatMap((d) => [[n, 0.05, d, 0.05], [n, 0.2, d, 0.2]])),
  lnPredict(t, data, i) { // ln L̂ at point i (log-sum-exp: no overflow)
    const u = (t[1] / t[3]) * (t[0] - data.lnN[i]), v = t[2] - data.lnD[i];
    const m = Math.max(u, v);
    return t[3] * (m + Math.log(Math.exp(u - m) + Math.exp(v - m)));
  },
  params: (t) => ({ Nc: Math.exp(t[0]), alphaN: t[1], Dc: Math.exp(t[2]), alphaD: t[3] }),
};
export default kaplan;
