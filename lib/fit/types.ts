/**
 * The fitter's data types in one leaf module (it imports nothing), so every other module of lib/fit can
 * name them without importing the code that produces them: runs, law forms, plans, fitted laws, queries.
 * @module
 */

/** A CSV as string cells. */
export interface Table {
  /** Data rows keyed by header. */
  rows: Record<string, string>[];
  /** Header, in file order. */
  columns: string[];
  /** The CSV file read. */
  path: string;
  /** The experiment's results directory when the input was one (outputs go there). */
  dir?: string;
}

/** Column names the fitter reads. */
export interface ColumnMap {
  /** Parameter count N. */
  n: string;
  /** Training tokens D ("" with `c` set: D = C/(6N)). */
  d: string;
  /** Observed loss L (for kumar-ptq: the degradation δ). */
  loss: string;
  /** Forward recipe label. */
  fwd: string;
  /** Backward recipe label. */
  bwd: string;
  /** Precision columns (bits) for the Kumar forms; one γ each. */
  bits: string[];
  /** Forward bits, read when present (cost model). */
  fwdBits: string;
  /** Backward bits, read when present (cost model). */
  bwdBits: string;
  /** Training compute C (FLOPs), read when set: D = C/(6N) when `d` is "", and isoFLOP budgets. */
  c?: string;
}

/** One fitted run. */
export interface Run {
  /** run_id, or "row<k>" when the CSV has none. */
  id: string;
  /** Parameter count. */
  N: number;
  /** Training tokens. */
  D: number;
  /** Observed loss. */
  L: number;
  /** Forward label ("" when the CSV has no such column). */
  fwd: string;
  /** Backward label ("" when the CSV has no such column). */
  bwd: string;
  /** Bits per precision column (Kumar forms; empty otherwise). */
  bits: number[];
  /** Forward bits when the CSV has them (NaN otherwise); used by the cost model only. */
  fwdBits?: number;
  /** Backward bits when the CSV has them (NaN otherwise). */
  bwdBits?: number;
  /** Training compute when a compute column was read. */
  C?: number;
}

/** Which columns a form reads besides N, D and L. */
export interface RowNeeds {
  /**
   * Labels: "required" (fwd and bwd columns must exist), "fwd" (fwd must exist, bwd is read when present),
   * "optional" (read when both exist), "none".
   */
  labels: "required" | "fwd" | "optional" | "none";
  /** Whether the precision (bits) columns are read. */
  bits: boolean;
}

/** Points of a fit in the layout the inner loops want: one typed array per quantity. */
export interface LawData {
  /** Number of points. */
  n: number;
  /** ln N (parameters) per point. */
  lnN: Float64Array;
  /** ln D (tokens) per point. */
  lnD: Float64Array;
  /** ln L (observed loss, or δ) per point. */
  lnL: Float64Array;
  /** Precision in bits per point, one array per precision column (empty when the form reads none). */
  bits: Float64Array[];
  /** Index of the point's efficiency label in FormContext.labels, −1 for the baseline. */
  label: Int32Array;
}

/** What a form's parameter layout depends on in the data. */
export interface FormContext {
  /** Label of the unquantized runs. */
  baseline: string;
  /** Precision columns (one γ each for the Kumar forms). */
  bitsColumns: string[];
  /** Non-baseline efficiency labels present (QuEST's eff(P)), sorted. */
  labels: string[];
}

/** θ layout of a form in a context. */
export interface ParamLayout {
  /** Names of the internal parameters, in θ order. */
  names: string[];
  /** θ indices of exponents, kept positive (fitted as their logarithm) unless unconstrained. */
  exponents: number[];
  /** θ indices the base fit moves (default: all); the others stay 0 until a stage fits them. */
  base?: number[];
}

/** A sub-fit after the base fit, with the base frozen (Quartet's efficiencies). */
export interface FitTask {
  /** "base", or a stage kind of the form ("effN", "effD", "joint"). */
  kind: string;
  /** Label (forward, backward, or "fwd:bwd" for joint). */
  label: string;
  /** Group of the runs in it. */
  group: RunGroup;
  /** Indices into the plan's runs. */
  runs: number[];
  /** θ indices this task moves. */
  free: number[];
}

/** A form's extra stages: which tasks, where they start, what they produce. */
export interface FormStages {
  /** The stage tasks for runs (after the base task), in execution order. */
  tasks(runs: Run[], baseline: string): Omit<FitTask, "free">[];
  /** θ indices a task moves. */
  free(task: FitTask): number[];
  /** Starting points of a task (free coordinates); from `warm` when given. */
  starts(task: FitTask, warm?: FitResult): number[][];
  /** Records a task's result (θ at its optimum) into the fit's efficiencies. */
  collect(
    task: FitTask,
    theta: Float64Array,
    eff: { effN: Record<string, number>; effD: Record<string, number> },
  ): void;
}

/** A scheme to predict for: labels, or explicit efficiencies / bits. */
export interface SchemeQuery {
  /** Forward label (default: the baseline). */
  fwd?: string;
  /** Backward label (default: the baseline). */
  bwd?: string;
  /** Kumar: bits per precision column. */
  bits?: number[];
  /** Quartet/QuEST: explicit effN (overrides the labels). */
  effN?: number;
  /** Quartet: explicit effD (overrides the labels). */
  effD?: number;
  /** Quartet: use forward-only effN and backward-only effD even when a joint fit exists. */
  separate?: boolean;
}

/** The full θ and per-point extras that make a one-point prediction for a scheme. */
export interface SchemePoint {
  /** Full θ (NaN entries when the scheme has no fitted efficiency). */
  theta: Float64Array;
  /** Bits per precision column. */
  bits: number[];
  /** Efficiency label index (−1: baseline). */
  label: number;
}

/** Thresholds of the warning checks (all optional; defaults in parentheses). */
export interface WarningOptions {
  /** An exponent below this counts as at its bound 0 (default 0.01). */
  minExponent?: number;
  /** An exponent above this is implausible: its term is switched off rather than fitted (default 3). */
  maxExponent?: number;
  /** Points per fitted parameter below which a stage is ill-determined (default 2). */
  pointsPerParam?: number;
  /**
   * A parameter or efficiency whose bootstrap interval is wider than this many times its estimate,
   * (high − low)/|estimate|, is flagged (default 0.5).
   */
  ciWidth?: number;
  /** Scale constants (A, B, C_T), which trade off with the exponents: flagged when high/low exceeds this (default 1e3). */
  ciFactorScale?: number;
  /** Mean |relative error| of the leave-largest-model-out prediction that is flagged (default 0.02). */
  extrapolationTolerance?: number;
  /** An efficiency above this is flagged as beating the baseline by more than noise (default 1.25). */
  maxEfficiency?: number;
  /** An efficiency below this is flagged as at its lower edge (default 1e-3). */
  minEfficiency?: number;
}

/** A compute-optimal allocation. */
export interface Optimum {
  /** Baseline-equivalent training compute (FLOPs). */
  compute: number;
  /** Compute-optimal parameters N*. */
  N: number;
  /** Compute-optimal tokens D*. */
  D: number;
  /** Predicted loss at (N*, D*). */
  loss: number;
}

/**
 * A law form: one record carries everything the fitter, the queries, the frontier and the warnings need.
 * Built-in forms live one per file in lib/fit/forms/ and are made with `defineForm` (lib/fit/law.ts), which
 * also accepts a user's module (`--form ./my-law.ts`) and fills in finite-difference gradients.
 */
export interface LawForm {
  /** Name (`--form NAME`). */
  readonly name: string;
  /** One line: the formula. */
  readonly summary: string;
  /** What the loss column holds ("loss", or "PTQ degradation δ"). */
  readonly target: string;
  /** Default Huber δ on ln residuals. */
  readonly defaultDelta: number;
  /** Which columns a row must have. */
  readonly reads: RowNeeds;
  /** The base fit's runs: all, or only the baseline's when the data is labelled. */
  readonly baseRuns: "all" | "baseline";
  /** Public names of the scale constants (their bootstrap intervals are judged by ratio, not width). */
  readonly scaleParams: readonly string[];
  /** Whether compute frontiers and optima make sense (false for a degradation law). */
  readonly frontier: boolean;
  /** Whether the optimal-precision region map applies (effN and effD per label). */
  readonly regions: boolean;
  /** θ layout in a context. */
  layout(ctx: FormContext): ParamLayout;
  /** Starting grid of the base fit, in base coordinates (exponents in θ units, not logs). */
  grid(ctx: FormContext): number[][];
  /** ln L̂ at point i; d ln L̂/dθ written into `grad` (every entry) when given. */
  lnPredict(theta: Float64Array, data: LawData, i: number, grad: Float64Array | null): number;
  /** Public parameters (E, A, …) from θ. */
  params(theta: Float64Array, ctx: FormContext): Record<string, number>;
  /** θ from public parameters and efficiencies (inverse of `params`), for laws from published constants. */
  theta(
    params: Record<string, number>,
    ctx: FormContext,
    eff: { effN: Record<string, number>; effD: Record<string, number> },
  ): number[];
  /** Efficiencies derived from θ (QuEST's eff per label; Kumar's N_eff/N per forward label). */
  efficiencies(
    theta: Float64Array,
    ctx: FormContext,
    schemes: SchemeInfo[],
  ): { effN: Record<string, number>; effD: Record<string, number> };
  /** θ and point extras to predict a scheme with (from a fit's base θ and efficiencies). */
  scheme(fit: FitResult, q: SchemeQuery): SchemePoint;
  /** Closed-form compute optimum (Chinchilla); absent: numeric. */
  optimum?(fit: FitResult, C: number, speedup: number): Optimum;
  /** Stages after the base fit (Quartet); absent: the base fit is the whole fit. */
  stages?: FormStages;
  /** The form's own checks (beyond exponents, points per parameter, intervals and extrapolation). */
  warnings(fit: FitResult, o: WarningOptions): string[];
}

/** What to fit. */
export interface FitOptions {
  /** Law form: a built-in name or a LawForm. */
  form: string | LawForm;
  /** Label of the unquantized runs (default "bf16"). */
  baseline?: string;
  /** Huber δ (default: the form's). */
  delta?: number;
  /** Starting grid for the base fit (default: the form's grid). */
  grid?: number[][];
  /** Kumar forms: names of the precision columns, used to name γ (default ["fwd_bits"]). */
  bitsColumns?: string[];
  /**
   * Allow non-positive exponents. Default false: the exponents are fitted in log space, so they stay in
   * (0, ∞) as a scaling law's must; a fit that wants a non-positive one ends near 0 and is flagged.
   */
  unconstrained?: boolean;
  /**
   * Base-fit parameters held at a value instead of fitted, by θ name (the form's `names`, e.g.
   * `{gamma: 1}`: the Quartet law with γ = 1, the Hoffmann variant of quartet.md §1.2). Values are θ
   * values (ln A for "a", ln E for "e"). Default none.
   */
  fixed?: Record<string, number>;
}

/** Which subset a run was fitted in. */
export type RunGroup = "baseline" | "forward" | "backward" | "joint" | "all";

/** A validated fit, ready to execute (possibly many times, for the bootstrap). */
export interface FitPlan {
  /** Law form. */
  law: LawForm;
  /** Its name. */
  form: string;
  /** Layout context. */
  context: FormContext;
  /** Baseline label. */
  baseline: string;
  /** Huber δ. */
  delta: number;
  /** Runs, validated. */
  runs: Run[];
  /** Sub-fits in execution order (base first). */
  tasks: FitTask[];
  /** Kumar precision columns. */
  bitsColumns: string[];
  /** Starting grid override for the base fit. */
  grid?: number[][];
  /** Whether the exponents may be non-positive (see FitOptions.unconstrained). */
  unconstrained: boolean;
  /** Base parameters held fixed, by θ name (see FitOptions.fixed); empty when none. */
  fixed: Record<string, number>;
}

/** A (fwd, bwd) combination present in the data. */
export interface SchemeInfo {
  /** "fwd:bwd" ("all" when the data has no labels). */
  name: string;
  /** Forward label. */
  fwd: string;
  /** Backward label. */
  bwd: string;
  /** Kumar: bits of the scheme's first run. */
  bits: number[];
  /** Forward bits of the scheme's first run (NaN when unknown). */
  fwdBits: number;
  /** Backward bits of the scheme's first run (NaN when unknown). */
  bwdBits: number;
  /** Number of fitted runs. */
  runs: number;
}

/** Observed vs predicted for one fitted run. */
export interface Prediction {
  /** run_id. */
  id: string;
  /** Stage the run was fitted in. */
  group: RunGroup;
  /** "fwd:bwd". */
  scheme: string;
  /** Parameter count. */
  N: number;
  /** Training tokens. */
  D: number;
  /** Forward label. */
  fwd: string;
  /** Backward label. */
  bwd: string;
  /** Observed loss. */
  observed: number;
  /** Law prediction. */
  predicted: number;
  /** ln observed − ln predicted. */
  residual: number;
}

/** Two-sided interval [low, high]. */
export type Interval = [number, number];

/** Bootstrap confidence intervals. */
export interface FitCI {
  /** Confidence level, e.g. 0.95. */
  level: number;
  /** Bootstrap resamples used. */
  samples: number;
  /** Per public parameter name. */
  params: Record<string, Interval>;
  /** Per effN label. */
  effN: Record<string, Interval>;
  /** Per effD label. */
  effD: Record<string, Interval>;
}

/** Leave-largest-model-out extrapolation check. */
export interface Extrapolation {
  /** N of the held-out (largest) model. */
  heldOutN: number;
  /** Held-out runs with their prediction from the fit without them. */
  points: { id: string; scheme: string; observed: number; predicted: number; relError: number }[];
  /** Mean |predicted/observed − 1|. */
  meanAbsRelError: number;
  /** Max |predicted/observed − 1|. */
  maxAbsRelError: number;
}

/** A fitted law. */
export interface FitResult {
  /** Law form name. */
  form: string;
  /** The form itself (queries and warnings use it). */
  law: LawForm;
  /** Layout context of the fit. */
  context: FormContext;
  /** Baseline label. */
  baseline: string;
  /** Huber δ used. */
  delta: number;
  /** Public parameters: E, A, B, alpha, beta, … (the form's). */
  params: Record<string, number>;
  /** Quartet: per forward label (and "fwd:bwd" for joint fits); QuEST: per label; Kumar: ∏(1 − e^(−P/γ)). */
  effN: Record<string, number>;
  /** Quartet: per backward label (and "fwd:bwd" for joint fits). */
  effD: Record<string, number>;
  /** Total objective Σ Huber over all points of all stages. */
  objective: number;
  /** Objective per sub-fit ("base", "effN:quest", "joint:quest:sr", …). */
  objectives: Record<string, number>;
  /** Points fitted. */
  points: number;
  /** Internal θ after the base fit (stage-only entries 0; log space). */
  theta: number[];
  /** Kumar: precision column names. */
  bitsColumns: string[];
  /** (fwd, bwd) combinations fitted. */
  schemes: SchemeInfo[];
  /** Observed vs predicted per fitted run. */
  predictions: Prediction[];
  /** Bootstrap intervals (when computed). */
  ci?: FitCI;
  /** Leave-largest-model-out check (null: not enough data; absent: not run). */
  extrapolation?: Extrapolation | null;
  /** Whether the exponents were left unconstrained. */
  unconstrained: boolean;
  /** Base parameters held fixed, by θ name (absent when none). */
  fixed?: Record<string, number>;
  /** Warning thresholds used by `fitWarnings` when called without options. */
  warningOptions?: WarningOptions;
  /** How the input was read (e.g. "D = C/(6N) from column 'C'", "kept 40 of 52 rows: N>1e8"). */
  notes?: string[];
  /**
   * Why the fit should not be trusted (empty when nothing was found). Set by executeFit; recompute with
   * `fitWarnings` (lib/fit/warnings.ts) after attaching `ci` or `extrapolation`, which add their own checks.
   */
  warnings: string[];
}

/** How to execute a plan: bootstrap weights and warm starts. */
export interface ExecuteOptions {
  /** Per-run multiplicities (bootstrap resample). */
  weights?: Float64Array;
  /** Start every sub-fit only from this earlier fit's solution (fast refits). */
  warm?: FitResult;
}

/** A built-in law form's name ("chinchilla", "quartet", "kumar", "quest", "kumar-ptq"; see FORM_NAMES). */
export type FormName = string;
