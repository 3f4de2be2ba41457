/**
 * Scaling-law fitting: load runs, fit Chinchilla / Quartet / Kumar forms with a Huber objective on ln L
 * (multi-start L-BFGS, analytic gradients), bootstrap intervals, leave-largest-model-out extrapolation,
 * cost models and compute frontiers.
 *
 * Typical use:
 * ```ts
 * const runs = toRuns(await readTable("results/quartet-tiny"), "quartet");
 * const plan = planFit(runs, { form: "quartet" });
 * const fit = executeFit(plan);
 * fit.ci = bootstrapCI(plan, fit, { samples: 200 });
 * ```
 * @module
 */
export { DEFAULT_COLUMNS, FitInputError, parseTable, readTable, toRuns } from "./data.ts";
export type { ColumnMap, Run, Table } from "./data.ts";
export { chinchilla, formFor, kumar, lawData, quartet } from "./forms.ts";
export type { FormName, LawData, LawForm } from "./forms.ts";
export { huber, huberDeriv, makeObjective, residuals } from "./objective.ts";
export type { ObjectiveFn, ObjectiveSpec } from "./objective.ts";
export { lbfgs } from "./lbfgs.ts";
export type { LbfgsOptions, LbfgsResult } from "./lbfgs.ts";
export { chinchillaGrid, grid, kumarGrid, multiStart, quartetGrid } from "./multistart.ts";
export type { MultiStartOptions, MultiStartResult } from "./multistart.ts";
export {
  defaultDelta,
  efficiencies,
  executeFit,
  exponentIndices,
  fitRuns,
  kumarEff,
  lawFromParams,
  planFit,
  predictLoss,
  schemeName,
} from "./fit.ts";
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
} from "./fit.ts";
export { bootstrapCI, percentile, resampleWeights } from "./bootstrap.ts";
export type { BootstrapOptions } from "./bootstrap.ts";
export { leaveLargestOut } from "./extrapolate.ts";
export {
  bitsOf,
  bopsModel,
  customModel,
  interpolate,
  loadProfile,
  parseProfile,
  profileModel,
  trainingCompute,
  trainingSpeedup,
} from "./cost.ts";
export type { CostModel, CostScheme, HardwareProfile, Speedups, SpeedupTable } from "./cost.ts";
export {
  chinchillaOptimum,
  computeOptimum,
  frontier,
  logspace,
  lossComputeCurves,
  numericOptimum,
  observedCompute,
  optimaRows,
  paretoFrontier,
  predictableSchemes,
  regionCandidates,
  regionMap,
} from "./frontier.ts";
export type {
  ComputePoint,
  Frontier,
  FrontierOptions,
  FrontierPoint,
  FrontierScheme,
  Optimum,
  RegionCandidate,
  RegionCell,
  RegionOptions,
} from "./frontier.ts";
export {
  SYNTHETIC_MODELS,
  SYNTHETIC_SCHEMES,
  syntheticRows,
  syntheticRuns,
  writeSyntheticResults,
} from "./synthetic.ts";
export type { SyntheticModel, SyntheticOptions, SyntheticScheme } from "./synthetic.ts";
export { makeRng } from "./random.ts";
export { htmlTable, JUPYTER_DISPLAY, markdownTable, tableBundle, withDisplay } from "./display.ts";
export type { MimeBundle } from "./display.ts";
export {
  fitOutputPaths,
  fitSummary,
  fitTableRows,
  fitText,
  fmt,
  plainTable,
  predictionsCsv,
  warningsText,
  writeFit,
} from "./report.ts";
export { fitWarnings } from "./warnings.ts";
export type { WarningOptions } from "./warnings.ts";
export type { Rng } from "./random.ts";
