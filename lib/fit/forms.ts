/**
 * The three scaling-law forms, written in log space: each returns ln L̂ and its gradient with respect to
 * the internal parameter vector θ, evaluated with log-sum-exp so no term can overflow.
 *
 * - Chinchilla: L = E + A/N^α + B/D^β, θ = [a, α, b, β, e] (a = ln A, b = ln B, e = ln E).
 * - Quartet: L = (A/(N·effN)^α + B/(D·effD)^β)^γ + E, θ = [a, α, b, β, e, γ, ln effN, ln effD].
 * - Kumar: L = E + A/N_eff^α + B/D^β, N_eff = N·∏ₖ(1 − e^(−Pₖ/γₖ)), θ = [a, α, b, β, e, ln γ₁, …].
 * @module
 */

/** The law forms the fitter knows. */
export type FormName = "chinchilla" | "quartet" | "kumar";

/** Points of a fit in the layout the inner loops want: one typed array per quantity. */
export interface LawData {
  /** Number of points. */
  n: number;
  /** ln N (parameters) per point. */
  lnN: Float64Array;
  /** ln D (tokens) per point. */
  lnD: Float64Array;
  /** ln L (observed loss) per point. */
  lnL: Float64Array;
  /** Kumar only: precision in bits per point, one array per precision column. */
  bits: Float64Array[];
}

/** A law form: parameter names and the log prediction with its gradient. */
export interface LawForm {
  /** Which form this is. */
  readonly name: FormName;
  /** Names of the internal parameters, in θ order. */
  readonly names: readonly string[];
  /**
   * ln L̂ at point i. When `grad` is given, d ln L̂ / dθ is written into it (every entry).
   */
  lnPredict(theta: Float64Array, data: LawData, i: number, grad: Float64Array | null): number;
}

/** Chinchilla (Hoffmann et al. 2022) form. */
export const chinchilla: LawForm = {
  name: "chinchilla",
  names: ["a", "alpha", "b", "beta", "e"],
  lnPredict(t, d, i, g) {
    const lnN = d.lnN[i], lnD = d.lnD[i];
    const u0 = t[4], u1 = t[0] - t[1] * lnN, u2 = t[2] - t[3] * lnD;
    const m = Math.max(u0, u1, u2);
    const x0 = Math.exp(u0 - m), x1 = Math.exp(u1 - m), x2 = Math.exp(u2 - m);
    const s = x0 + x1 + x2;
    if (g) {
      const w0 = x0 / s, w1 = x1 / s, w2 = x2 / s;
      g[0] = w1;
      g[1] = -w1 * lnN;
      g[2] = w2;
      g[3] = -w2 * lnD;
      g[4] = w0;
    }
    return m + Math.log(s);
  },
};

/** Quartet (Busbridge et al. base form with effN/effD, Castro et al. 2025) form. */
export const quartet: LawForm = {
  name: "quartet",
  names: ["a", "alpha", "b", "beta", "e", "gamma", "lnEffN", "lnEffD"],
  lnPredict(t, d, i, g) {
    const x = d.lnN[i] + t[6], y = d.lnD[i] + t[7];
    const alpha = t[1], beta = t[3], gamma = t[5];
    const v1 = t[0] - alpha * x, v2 = t[2] - beta * y;
    const mv = Math.max(v1, v2);
    const p1 = Math.exp(v1 - mv), p2 = Math.exp(v2 - mv);
    const lnS = mv + Math.log(p1 + p2);
    const tt = gamma * lnS, e = t[4];
    const m = Math.max(tt, e);
    const q0 = Math.exp(e - m), q1 = Math.exp(tt - m);
    const q = q0 + q1;
    if (g) {
      const we = q0 / q, wt = q1 / q;
      const s1 = p1 / (p1 + p2), s2 = p2 / (p1 + p2);
      const c1 = wt * gamma * s1, c2 = wt * gamma * s2;
      g[0] = c1;
      g[1] = -c1 * x;
      g[2] = c2;
      g[3] = -c2 * y;
      g[4] = we;
      g[5] = wt * lnS;
      g[6] = -c1 * alpha;
      g[7] = -c2 * beta;
    }
    return m + Math.log(q);
  },
};

/** Kumar et al. (2024) precision form with one γ per precision column. */
export function kumar(precisions: number): LawForm {
  const names = ["a", "alpha", "b", "beta", "e"];
  for (let k = 0; k < precisions; k++) names.push(`lnGamma${k}`);
  const gu = new Float64Array(precisions); // per-call scratch: no allocation in the inner loop
  return {
    name: "kumar",
    names,
    lnPredict(t, d, i, g) {
      let lnNeff = d.lnN[i];
      const alpha = t[1];
      for (let k = 0; k < precisions; k++) {
        const u = d.bits[k][i] * Math.exp(-t[5 + k]);
        const em = Math.expm1(-u); // e^(−u) − 1, exact for small u
        lnNeff += Math.log(-em);
        // d ln(1 − e^(−u)) / d ln γ = −u·e^(−u)/(1 − e^(−u)); kept for the gradient below.
        gu[k] = (u * (1 + em)) / -em;
      }
      const lnD = d.lnD[i];
      const u0 = t[4], u1 = t[0] - alpha * lnNeff, u2 = t[2] - t[3] * lnD;
      const m = Math.max(u0, u1, u2);
      const x0 = Math.exp(u0 - m), x1 = Math.exp(u1 - m), x2 = Math.exp(u2 - m);
      const s = x0 + x1 + x2;
      if (g) {
        const w0 = x0 / s, w1 = x1 / s, w2 = x2 / s;
        g[0] = w1;
        g[1] = -w1 * lnNeff;
        g[2] = w2;
        g[3] = -w2 * lnD;
        g[4] = w0;
        for (let k = 0; k < precisions; k++) g[5 + k] = w1 * alpha * gu[k]; // ln L̂ carries −α·w1·(−gu)
      }
      return m + Math.log(s);
    },
  };
}

/** The form object for a name (Kumar needs the number of precision columns). */
export function formFor(name: FormName, precisions = 1): LawForm {
  if (name === "chinchilla") return chinchilla;
  if (name === "quartet") return quartet;
  return kumar(precisions);
}

/** Builds LawData from plain arrays (bits optional, one array per precision column). */
export function lawData(
  N: ArrayLike<number>,
  D: ArrayLike<number>,
  L: ArrayLike<number>,
  bits: ArrayLike<number>[] = [],
): LawData {
  const n = N.length;
  const lnN = new Float64Array(n), lnD = new Float64Array(n), lnL = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    lnN[i] = Math.log(N[i]);
    lnD[i] = Math.log(D[i]);
    lnL[i] = Math.log(L[i]);
  }
  return { n, lnN, lnD, lnL, bits: bits.map((b) => Float64Array.from(b)) };
}
