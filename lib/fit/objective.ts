/**
 * The fitting objective: Σᵢ wᵢ·Huber_δ(ln Lᵢ − ln L̂ᵢ) (a sum, not a mean) and its analytic gradient.
 * Weights are run multiplicities, which is how a bootstrap resample is expressed without copying data.
 * @module
 */
import type { LawData, LawForm } from "./types.ts";

/** Huber loss: r²/2 inside ±δ, δ·(|r| − δ/2) outside (scipy's `loss="huber"` with f_scale = δ). */
export function huber(r: number, delta: number): number {
  const a = Math.abs(r);
  return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
}

/** dHuber/dr: r clipped to ±δ. */
export function huberDeriv(r: number, delta: number): number {
  return r > delta ? delta : r < -delta ? -delta : r;
}

/** An objective over the free coordinates x: returns f(x) and writes ∇f into g. */
export type ObjectiveFn = (x: Float64Array, g: Float64Array) => number;

/** What an objective needs besides the form and data. */
export interface ObjectiveSpec {
  /** Huber threshold on ln-loss residuals. */
  delta: number;
  /** The full θ; entries not listed in `free` stay at these values. */
  theta: Float64Array;
  /** Indices of θ the optimizer moves (default: all). */
  free?: number[];
  /** Per-point multiplicities (default: all 1). */
  weights?: Float64Array;
  /**
   * Indices of θ (each also in `free`) constrained to be positive: the optimizer moves ln θₖ instead of θₖ
   * (x holds ln θₖ, θₖ = e^x, and the gradient is chained: ∂f/∂x = θₖ·∂f/∂θₖ). Used for the exponents.
   */
  positive?: number[];
}

/** Builds f(x), ∇f(x) for the free coordinates x of θ. */
export function makeObjective(form: LawForm, data: LawData, spec: ObjectiveSpec): ObjectiveFn {
  const p = spec.theta.length;
  const free = spec.free ?? [...Array(p).keys()];
  const theta = Float64Array.from(spec.theta);
  const gp = new Float64Array(p), acc = new Float64Array(p);
  const { delta, weights } = spec;
  const n = data.n, lnL = data.lnL;
  const pos = new Uint8Array(free.length);
  for (const idx of spec.positive ?? []) {
    const k = free.indexOf(idx);
    if (k < 0) throw new Error(`objective: positive index ${idx} is not free`);
    pos[k] = 1;
  }
  return (x, g) => {
    for (let k = 0; k < free.length; k++) theta[free[k]] = pos[k] ? Math.exp(x[k]) : x[k];
    acc.fill(0);
    let f = 0;
    for (let i = 0; i < n; i++) {
      const w = weights ? weights[i] : 1;
      if (w === 0) continue;
      const r = lnL[i] - form.lnPredict(theta, data, i, gp);
      f += w * huber(r, delta);
      const c = -w * huberDeriv(r, delta);
      for (let k = 0; k < p; k++) acc[k] += c * gp[k];
    }
    for (let k = 0; k < free.length; k++) g[k] = pos[k] ? acc[free[k]] * theta[free[k]] : acc[free[k]];
    return f;
  };
}

/** Residuals ln Lᵢ − ln L̂ᵢ at θ. */
export function residuals(form: LawForm, data: LawData, theta: Float64Array): Float64Array {
  const r = new Float64Array(data.n);
  for (let i = 0; i < data.n; i++) r[i] = data.lnL[i] - form.lnPredict(theta, data, i, null);
  return r;
}
