/**
 * Scaling-law fitting: load runs, fit a law form (Chinchilla, Quartet, Kumar, QuEST, Kumar PTQ, or one of
 * your own) with a Huber objective on ln L (multi-start L-BFGS, analytic or finite-difference gradients),
 * bootstrap intervals, leave-largest-model-out extrapolation, cost models, compute frontiers, and
 * Approach-2 isoFLOP analyses.
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
export { applyFilters, dropTopLoss, parseWhere } from "./filter.ts";
export type { RowFilter } from "./filter.ts";
export { defineForm, effLabel, lawData, lse, runData } from "./law.ts";
export type { FormSpec } from "./law.ts";
export { builtinForm, FORM_NAMES, formNamed, FORMS } from "./forms/mod.ts";
export { chinchilla, chinchillaGrid, chinchillaOptimum } from "./forms/chinchilla.ts";
export { efficiencies, quartet, quartetGrid } from "./forms/quartet.ts";
export { kumar, kumarEff, kumarGrid } from "./forms/kumar.ts";
export { quest, questGrid } from "./forms/quest.ts";
export { kumarPtq, kumarPtqGrid } from "./forms/kumar_ptq.ts";
export { loadForm } from "./user_form.ts";
export { huber, huberDeriv, makeObjective, residuals } from "./objective.ts";
export type { ObjectiveFn, ObjectiveSpec } from "./objective.ts";
export { lbfgs } from "./lbfgs.ts";
export type { LbfgsOptions, LbfgsResult } from "./lbfgs.ts";
export { grid, multiStart, steps } from "./multistart.ts";
export type { MultiStartOptions, MultiStartResult } from "./multistart.ts";
export { planFit, resolveForm, schemeName } from "./plan.ts";
export { executeFit, fitRuns } from "./execute.ts";
export { lawFromParams, predictLoss, predictor } from "./query.ts";
export type {
  ExecuteOptions,
  Extrapolation,
  FitCI,
  FitOptions,
  FitPlan,
  FitResult,
  FitTask,
  FormContext,
  FormName,
  FormStages,
  Interval,
  LawData,
  LawForm,
  Optimum,
  ParamLayout,
  Prediction,
  RowNeeds,
  RunGroup,
  SchemeInfo,
  SchemePoint,
  SchemeQuery,
  WarningOptions,
} from "./types.ts";
export { bootstrapCI, percentile, resampleWeights } from "./bootstrap.ts";
export type { BootstrapOptions } from "./bootstrap.ts";
export { replicateCells, replicateKey, replicateSummary, seedSpreads } from "./replicates.ts";
export type { ReplicateSummary, SeedSpread } from "./replicates.ts";
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
  RegionCandidate,
  RegionCell,
  RegionOptions,
} from "./frontier.ts";
export { fitIsoflop, isoflopBootstrap, isoflopSummary, isoflopText, parabolaMinimum } from "./isoflop.ts";
export type { IsoflopFit, IsoflopOptimum, IsoflopOptions } from "./isoflop.ts";
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
  fitOutputDir,
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
export type { Rng } from "./random.ts";
