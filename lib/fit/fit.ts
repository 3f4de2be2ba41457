/**
 * Fitting runs to a law, in one import: plan (lib/fit/plan.ts), execute (lib/fit/execute.ts), query
 * (lib/fit/query.ts) and the types (lib/fit/types.ts). Modules inside lib/fit import those directly; this
 * file is for callers outside it.
 * @module
 */
export { executeFit, fitRuns } from "./execute.ts";
export { planFit, resolveForm, schemeName } from "./plan.ts";
export { lawFromParams, predictLoss, predictor } from "./query.ts";
export { efficiencies } from "./forms/quartet.ts";
export { kumarEff } from "./forms/kumar.ts";
export type {
  ExecuteOptions,
  Extrapolation,
  FitCI,
  FitOptions,
  FitPlan,
  FitResult,
  FitTask,
  Interval,
  Prediction,
  RunGroup,
  SchemeInfo,
  SchemeQuery,
} from "./types.ts";
