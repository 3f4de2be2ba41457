/**
 * Queries on a fitted law: predicted loss for a scheme at (N, D), through the form's own lnPredict (each
 * formula is written once, in its form file), and laws made from published constants.
 * @module
 */
import { withDisplay } from "./display.ts";
import { lawData } from "./law.ts";
import { resolveForm } from "./plan.ts";
import { fitBundle } from "./report.ts";
import type { FitResult, LawForm, SchemeQuery } from "./types.ts";

/** A fast (N, D) → L̂ function for one scheme (NaN when the scheme has no fitted efficiency). */
export function predictor(fit: FitResult, q: SchemeQuery = {}): (N: number, D: number) => number {
  const pt = fit.law.scheme(fit, q);
  const data = lawData([1], [1], [1], pt.bits.map((b) => [b]), [pt.label]);
  return (N, D) => {
    data.lnN[0] = Math.log(N);
    data.lnD[0] = Math.log(D);
    return Math.exp(fit.law.lnPredict(pt.theta, data, 0, null));
  };
}

/**
 * Predicted loss of a fitted law at (N, D) for a scheme (NaN when the scheme has no fitted efficiency).
 * Evaluated from the internal log-space θ with log-sum-exp, so a degenerate fit whose A or B overflows
 * a double still predicts finite losses.
 */
export function predictLoss(fit: FitResult, N: number, D: number, q: SchemeQuery = {}): number {
  return predictor(fit, q)(N, D);
}

/**
 * A law from known constants (no data), e.g. the paper's Table 6, for frontiers and region maps.
 * `params` uses the form's public names (E, A, B, alpha, beta, gamma, …).
 */
export function lawFromParams(
  form: string | LawForm,
  params: Record<string, number>,
  o: {
    effN?: Record<string, number>;
    effD?: Record<string, number>;
    baseline?: string;
    bitsColumns?: string[];
  } = {},
): FitResult {
  const law = resolveForm(form);
  const effN = { ...o.effN }, effD = { ...o.effD };
  const context = {
    baseline: o.baseline ?? "bf16",
    bitsColumns: law.reads.bits ? o.bitsColumns ?? ["fwd_bits"] : [],
    labels: Object.keys(effN).sort(),
  };
  return withDisplay({
    form: law.name,
    law,
    context,
    baseline: context.baseline,
    delta: law.defaultDelta,
    params: { ...params },
    effN,
    effD,
    objective: NaN,
    objectives: {},
    points: 0,
    theta: law.theta(params, context, { effN, effD }),
    bitsColumns: context.bitsColumns,
    schemes: [],
    predictions: [],
    unconstrained: false,
    warnings: [],
  }, fitBundle);
}
