/**
 * Leave-largest-model-out: refit without the runs of the largest N and predict them, the honest test of a
 * law that will be used to extrapolate in N. Given the full fit, the refit starts from its optimum alone
 * (one L-BFGS run instead of the whole grid).
 * @module
 */
import { executeFit } from "./execute.ts";
import { planFit, schemeName } from "./plan.ts";
import { predictLoss } from "./query.ts";
import type { Extrapolation, FitOptions, FitResult, Run } from "./types.ts";

/**
 * Extrapolation error to the largest model, or null when the rest cannot support a fit. `warm`: the fit on
 * all runs, whose optimum starts the refit (default: the form's whole grid).
 */
export function leaveLargestOut(runs: Run[], opts: FitOptions, warm?: FitResult): Extrapolation | null {
  // Only runs the full fit would use are candidates (a labelled Chinchilla fit uses baseline runs only).
  const inScope = new Set(planFit(runs, opts).tasks.flatMap((t) => t.runs.map((i) => runs[i])));
  const heldOutN = Math.max(...runs.map((r) => r.N));
  const train = runs.filter((r) => r.N < heldOutN);
  const test = runs.filter((r) => r.N === heldOutN && inScope.has(r));
  if (train.length === 0 || new Set(train.map((r) => r.N)).size < 2) return null;
  let plan;
  try {
    plan = planFit(train, opts);
  } catch {
    return null; // too few points once the largest model is gone
  }
  const fit = executeFit(plan, { warm });
  const points = test.flatMap((r) => {
    const predicted = predictLoss(fit, r.N, r.D, { fwd: r.fwd, bwd: r.bwd, bits: r.bits });
    if (!Number.isFinite(predicted)) return []; // its scheme had no runs left to fit
    return [{
      id: r.id,
      scheme: schemeName(r.fwd, r.bwd),
      observed: r.L,
      predicted,
      relError: predicted / r.L - 1,
    }];
  });
  if (points.length === 0) return null;
  const abs = points.map((p) => Math.abs(p.relError));
  return {
    heldOutN,
    points,
    meanAbsRelError: abs.reduce((a, b) => a + b, 0) / abs.length,
    maxAbsRelError: Math.max(...abs),
  };
}
