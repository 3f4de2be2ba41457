/**
 * Chinchilla (Hoffmann et al. 2022): L = E + A/N^α + B/D^β, θ = [ln A, α, ln B, β, ln E], fitted from
 * Hoffmann's 4,500-point grid; on labelled data only the baseline runs are fitted. Closed-form compute optimum.
 * @module
 */
import { defineForm } from "../law.ts";
import { grid, steps } from "../multistart.ts";
import type { FitResult, LawForm, Optimum } from "../types.ts";
import { BASE_NAMES, baseParams, baseTheta, lossLawWarnings, threeTerm } from "./common.ts";

/**
 * Hoffmann et al.'s grid over [a, α, b, β, e]: a, b ∈ {0, 5, …, 25}, α, β ∈ {0, 0.5, …, 2},
 * e ∈ {−1, −0.5, …, 1}: 4,500 starts.
 */
export function chinchillaGrid(): number[][] {
  return grid(steps(0, 25, 5), steps(0, 2, 0.5), steps(0, 25, 5), steps(0, 2, 0.5), steps(-1, 1, 0.5));
}

/**
 * Closed form: N* = G·(C/6)^(β/(α+β)), D* = G⁻¹·(C/6)^(α/(α+β)), G = (αA/(βB))^(1/(α+β)).
 * `speedup` multiplies the compute (a faster scheme gets more N·D for the same C).
 */
export function chinchillaOptimum(
  p: { A: number; B: number; alpha: number; beta: number; E: number },
  C: number,
  speedup = 1,
): Optimum {
  const { A, B, alpha: a, beta: b } = p;
  const G = ((a * A) / (b * B)) ** (1 / (a + b));
  const c6 = (C * speedup) / 6;
  const N = G * c6 ** (b / (a + b)), D = (1 / G) * c6 ** (a / (a + b));
  const loss = Math.exp(threeTerm(Float64Array.from(baseTheta(p)), Math.log(N), Math.log(D), null));
  return { compute: C, N, D, loss };
}

/** The Chinchilla form. */
export const chinchilla: LawForm = defineForm({
  name: "chinchilla",
  summary: "L = E + A/N^α + B/D^β",
  reads: { labels: "optional", bits: false },
  baseRuns: "baseline",
  scaleParams: ["A", "B"],
  names: BASE_NAMES,
  exponents: ["alpha", "beta"],
  starts: chinchillaGrid,
  gradient: true,
  lnPredict: (t, d, i, g) => threeTerm(t, d.lnN[i], d.lnD[i], g ?? null),
  params: (t) => baseParams(t),
  theta: (p) => baseTheta(p),
  optimum: (fit: FitResult, C, speedup) => chinchillaOptimum(fit.params as never, C, speedup),
  warnings: lossLawWarnings,
});
