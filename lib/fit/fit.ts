/**
 * Fitting runs to a law: plan (group runs, validate, before any work), then execute. Quartet is fitted in
 * two stages: base constants on baseline runs, then, with those frozen, effN per forward label on
 * forward-only runs, effD per backward label on backward-only runs and (effN, effD) per label pair on runs
 * quantized both ways.
 * @module
 */
import type { Run } from "./data.ts";
import { FitInputError } from "./data.ts";
import { formFor, type FormName, type LawData, lawData } from "./forms.ts";
import { withDisplay } from "./display.ts";
import { chinchillaGrid, kumarGrid, multiStart, quartetGrid } from "./multistart.ts";
import { fitBundle } from "./report.ts";
import { fitWarnings } from "./warnings.ts";

/** What to fit. */
export interface FitOptions {
  /** Law form. */
  form: FormName;
  /** Label of the unquantized runs (default "bf16"). */
  baseline?: string;
  /** Huber δ (default 1e-3; 1e-4 for Quartet). */
  delta?: number;
  /** Starting grid for the base constants (default: the form's grid). */
  grid?: number[][];
  /** Kumar: names of the precision columns, used to name γ (default ["fwd_bits"]). */
  bitsColumns?: string[];
  /**
   * Allow non-positive exponents (α, β and Quartet's γ). Default false: the exponents are fitted in log
   * space, so they stay in (0, ∞) as a scaling law's must; a fit that wants a non-positive one ends near 0
   * and is flagged in `warnings`.
   */
  unconstrained?: boolean;
}

/** Which subset a run was fitted in. */
export type RunGroup = "baseline" | "forward" | "backward" | "joint" | "all";

/** One sub-fit of a plan. */
export interface FitTask {
  /** "base": the law's constants; the others are Quartet's stage-2 efficiencies. */
  kind: "base" | "effN" | "effD" | "joint";
  /** Label (forward, backward, or "fwd:bwd" for joint). */
  label: string;
  /** Group of the runs in it. */
  group: RunGroup;
  /** Indices into the plan's runs. */
  runs: number[];
}

/** A validated fit, ready to execute (possibly many times, for the bootstrap). */
export interface FitPlan {
  /** Law form. */
  form: FormName;
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
  /** Forward / backward bits of the scheme's first run (NaN when unknown). */
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
  /** Law form. */
  form: FormName;
  /** Baseline label. */
  baseline: string;
  /** Huber δ used. */
  delta: number;
  /** E, A, B, alpha, beta, and gamma (Quartet's outer exponent; Kumar's precision γ, gamma_<col> if several). */
  params: Record<string, number>;
  /** Quartet: per forward label (and "fwd:bwd" for joint fits). Kumar: ∏(1 − e^(−P/γ)) per forward label. */
  effN: Record<string, number>;
  /** Quartet: per backward label (and "fwd:bwd" for joint fits). */
  effD: Record<string, number>;
  /** Total objective Σ Huber over all points of all stages. */
  objective: number;
  /** Objective per sub-fit ("base", "effN:quest", "joint:quest:sr", …). */
  objectives: Record<string, number>;
  /** Points fitted. */
  points: number;
  /** Internal base θ of the form (log space). */
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
  /**
   * Why the fit should not be trusted (empty when nothing was found): exponents at their bound, too few
   * points per parameter, … Set by executeFit; recompute with `fitWarnings` (lib/fit/warnings.ts) after
   * attaching `ci` or `extrapolation`, which add their own checks.
   */
  warnings: string[];
}

/** Default Huber δ per form. */
export function defaultDelta(form: FormName): number {
  return form === "quartet" ? 1e-4 : 1e-3;
}

/** Scheme name of a (fwd, bwd) pair. */
export function schemeName(fwd: string, bwd: string): string {
  return fwd === "" && bwd === "" ? "all" : `${fwd}:${bwd}`;
}

/** Groups and validates runs; throws FitInputError (labels absent, fewer points than parameters). */
export function planFit(runs: Run[], opts: FitOptions): FitPlan {
  const form = opts.form, baseline = opts.baseline ?? "bf16";
  const delta = opts.delta ?? defaultDelta(form);
  if (!(delta > 0)) throw new FitInputError(`--delta must be positive, got ${opts.delta}`);
  const bitsColumns = opts.bitsColumns ?? ["fwd_bits"];
  const labelled = runs.some((r) => r.fwd !== "" || r.bwd !== "");
  const isBase = (r: Run) => r.fwd === baseline && r.bwd === baseline;
  const tasks: FitTask[] = [];
  const idx = (pred: (r: Run) => boolean) => runs.flatMap((r, i) => (pred(r) ? [i] : []));
  const present = () => [...new Set(runs.map((r) => schemeName(r.fwd, r.bwd)))].join(", ");
  const nParams = form === "quartet" ? 6 : form === "kumar" ? 5 + bitsColumns.length : 5;
  const need = (n: number, p: number, what: string) => {
    if (n < p) {
      throw new FitInputError(`the ${form} form has ${p} parameters but only ${n} ${what} to fit them`);
    }
  };
  if (runs.length === 0) throw new FitInputError("no finished runs to fit");
  if (form === "kumar") {
    need(runs.length, nParams, "runs");
    tasks.push({ kind: "base", label: "all", group: "all", runs: idx(() => true) });
  } else if (form === "chinchilla" && !labelled) {
    need(runs.length, nParams, "runs");
    tasks.push({ kind: "base", label: "all", group: "all", runs: idx(() => true) });
  } else {
    const base = idx(isBase);
    if (base.length === 0) {
      throw new FitInputError(
        `no baseline runs (fwd = bwd = '${baseline}'); set --baseline to the unquantized label (schemes present: ${present()})`,
      );
    }
    need(base.length, nParams, `baseline runs (fwd = bwd = '${baseline}')`);
    tasks.push({ kind: "base", label: baseline, group: "baseline", runs: base });
    if (form === "quartet") {
      const labels = (pick: (r: Run) => string, pred: (r: Run) => boolean) =>
        [...new Set(runs.filter(pred).map(pick))].sort();
      const fwdOnly = (r: Run) => r.fwd !== baseline && r.bwd === baseline;
      const bwdOnly = (r: Run) => r.fwd === baseline && r.bwd !== baseline;
      const both = (r: Run) => r.fwd !== baseline && r.bwd !== baseline;
      for (const l of labels((r) => r.fwd, fwdOnly)) {
        tasks.push({ kind: "effN", label: l, group: "forward", runs: idx((r) => fwdOnly(r) && r.fwd === l) });
      }
      for (const l of labels((r) => r.bwd, bwdOnly)) {
        tasks.push({
          kind: "effD",
          label: l,
          group: "backward",
          runs: idx((r) => bwdOnly(r) && r.bwd === l),
        });
      }
      for (const l of labels((r) => `${r.fwd}:${r.bwd}`, both)) {
        const ri = idx((r) => both(r) && `${r.fwd}:${r.bwd}` === l);
        need(ri.length, 2, `runs of ${l} (effN and effD jointly)`);
        tasks.push({ kind: "joint", label: l, group: "joint", runs: ri });
      }
    }
  }
  return {
    form,
    baseline,
    delta,
    runs,
    tasks,
    bitsColumns,
    grid: opts.grid,
    unconstrained: !!opts.unconstrained,
  };
}

function subset(runs: Run[], ids: number[]): LawData {
  const rs = ids.map((i) => runs[i]);
  const bits = rs.length && rs[0].bits.length ? rs[0].bits.map((_, k) => rs.map((r) => r.bits[k])) : [];
  return lawData(rs.map((r) => r.N), rs.map((r) => r.D), rs.map((r) => r.L), bits);
}

/** How to execute a plan: bootstrap weights and warm starts. */
export interface ExecuteOptions {
  /** Per-run multiplicities (bootstrap resample). */
  weights?: Float64Array;
  /** Start every sub-fit only from this earlier fit's solution (fast refits). */
  warm?: FitResult;
}

/** Executes a plan: the base fit, then (Quartet) the efficiency fits with the base frozen. */
export function executeFit(plan: FitPlan, o: ExecuteOptions = {}): FitResult {
  const { form: name, runs, delta } = plan;
  const form = formFor(name, plan.bitsColumns.length);
  const w = (ids: number[]) => (o.weights ? Float64Array.from(ids, (i) => o.weights![i]) : undefined);
  const objectives: Record<string, number> = {};
  const effN: Record<string, number> = {}, effD: Record<string, number> = {};

  const baseTask = plan.tasks[0];
  const baseData = subset(runs, baseTask.runs);
  const pBase = name === "quartet" ? 6 : form.names.length;
  const baseStarts = o.warm ? [o.warm.theta.slice(0, pBase)] : plan.grid ??
    (name === "chinchilla"
      ? chinchillaGrid()
      : name === "quartet"
      ? quartetGrid()
      : kumarGrid(plan.bitsColumns.length));
  const base = multiStart(form, baseData, {
    delta,
    starts: baseStarts,
    free: [...Array(pBase).keys()],
    weights: w(baseTask.runs),
    theta: new Float64Array(form.names.length),
    positive: plan.unconstrained ? [] : exponentIndices(name),
    positiveFloor: o.warm ? 1e-12 : undefined,
  });
  objectives.base = base.objective;
  const theta = base.theta;

  const ln05 = Math.log(0.5);
  for (const t of plan.tasks.slice(1)) {
    const data = subset(runs, t.runs);
    const free = t.kind === "effN" ? [6] : t.kind === "effD" ? [7] : [6, 7];
    let starts: number[][];
    if (o.warm) {
      const wN = o.warm.effN[t.label] ?? 0.5, wD = o.warm.effD[t.label] ?? 0.5;
      starts = [
        t.kind === "effN"
          ? [Math.log(wN)]
          : t.kind === "effD"
          ? [Math.log(wD)]
          : [Math.log(wN), Math.log(wD)],
      ];
    } else {
      starts = t.kind === "joint" ? [[ln05, ln05], [ln05, 0], [0, ln05], [0, 0]] : [[ln05], [0]];
    }
    const tpl = Float64Array.from(theta);
    tpl[6] = 0, tpl[7] = 0;
    const r = multiStart(form, data, { delta, starts, free, theta: tpl, weights: w(t.runs), keep: 2 });
    if (t.kind !== "effD") effN[t.label] = Math.exp(r.theta[6]);
    if (t.kind !== "effN") effD[t.label] = Math.exp(r.theta[7]);
    objectives[`${t.kind}:${t.label}`] = r.objective;
  }

  const params = paramsOf(name, theta, plan.bitsColumns);
  const fit: FitResult = {
    form: name,
    baseline: plan.baseline,
    delta,
    params,
    effN,
    effD,
    objective: Object.values(objectives).reduce((a, b) => a + b, 0),
    objectives,
    points: plan.tasks.reduce((a, t) => a + t.runs.length, 0),
    theta: Array.from(theta.slice(0, pBase)),
    bitsColumns: name === "kumar" ? plan.bitsColumns : [],
    schemes: schemesOf(plan),
    predictions: [],
    unconstrained: plan.unconstrained,
    warnings: [],
  };
  if (name === "kumar") {
    for (const s of fit.schemes) if (s.fwd !== "" && !(s.fwd in effN)) effN[s.fwd] = kumarEff(fit, s.bits);
  }
  fit.predictions = plan.tasks.flatMap((t) =>
    t.runs.map((i) => {
      const r = runs[i];
      const predicted = predictLoss(fit, r.N, r.D, { fwd: r.fwd, bwd: r.bwd, bits: r.bits });
      return {
        id: r.id,
        group: t.group,
        scheme: schemeName(r.fwd, r.bwd),
        N: r.N,
        D: r.D,
        fwd: r.fwd,
        bwd: r.bwd,
        observed: r.L,
        predicted,
        residual: Math.log(r.L) - Math.log(predicted),
      };
    })
  );
  fit.warnings = fitWarnings(fit);
  return withDisplay(fit, fitBundle);
}

/** θ indices of a form's exponents: α, β (and Quartet's γ; Kumar's γs are already fitted as ln γ). */
export function exponentIndices(form: FormName): number[] {
  return form === "quartet" ? [1, 3, 5] : [1, 3];
}

/** Plans and executes in one call. */
export function fitRuns(runs: Run[], opts: FitOptions): FitResult {
  return executeFit(planFit(runs, opts));
}

function paramsOf(form: FormName, t: Float64Array, bitsColumns: string[]): Record<string, number> {
  const p: Record<string, number> = {
    E: Math.exp(t[4]),
    A: Math.exp(t[0]),
    B: Math.exp(t[2]),
    alpha: t[1],
    beta: t[3],
  };
  if (form === "quartet") p.gamma = t[5];
  if (form === "kumar") {
    bitsColumns.forEach((
      c,
      k,
    ) => (p[bitsColumns.length === 1 ? "gamma" : `gamma_${c}`] = Math.exp(t[5 + k])));
  }
  return p;
}

function schemesOf(plan: FitPlan): SchemeInfo[] {
  const m = new Map<string, SchemeInfo>();
  for (const t of plan.tasks) {
    for (const i of t.runs) {
      const r = plan.runs[i], name = schemeName(r.fwd, r.bwd);
      const s = m.get(name) ?? {
        name,
        fwd: r.fwd,
        bwd: r.bwd,
        bits: r.bits,
        fwdBits: r.fwdBits ?? NaN,
        bwdBits: r.bwdBits ?? NaN,
        runs: 0,
      };
      s.runs++;
      m.set(name, s);
    }
  }
  return [...m.values()];
}

/** Kumar's N_eff/N = ∏ₖ(1 − e^(−Pₖ/γₖ)) for the fit's γs. */
export function kumarEff(fit: FitResult, bits: number[]): number {
  const g = fit.bitsColumns.map((c) => fit.params[fit.bitsColumns.length === 1 ? "gamma" : `gamma_${c}`]);
  return bits.reduce((acc, b, k) => acc * -Math.expm1(-b / g[k]), 1);
}

/** A scheme to predict for: labels, or explicit efficiencies / bits. */
export interface SchemeQuery {
  /** Forward label (default: the baseline). */
  fwd?: string;
  /** Backward label (default: the baseline). */
  bwd?: string;
  /** Kumar: bits per precision column. */
  bits?: number[];
  /** Quartet: explicit effN (overrides the labels). */
  effN?: number;
  /** Quartet: explicit effD (overrides the labels). */
  effD?: number;
  /** Quartet: use forward-only effN and backward-only effD even when a joint fit exists. */
  separate?: boolean;
}

/** Quartet efficiencies of a scheme: 1 for baseline sides, the joint fit when present, else the separate ones. */
export function efficiencies(fit: FitResult, q: SchemeQuery): { effN: number; effD: number } {
  const fwd = q.fwd ?? fit.baseline, bwd = q.bwd ?? fit.baseline;
  const pair = `${fwd}:${bwd}`;
  const joint = !q.separate && fwd !== fit.baseline && bwd !== fit.baseline && pair in fit.effN;
  const effN = q.effN ?? (fwd === fit.baseline ? 1 : joint ? fit.effN[pair] : fit.effN[fwd] ?? NaN);
  const effD = q.effD ?? (bwd === fit.baseline ? 1 : joint ? fit.effD[pair] : fit.effD[bwd] ?? NaN);
  return { effN, effD };
}

/**
 * Predicted loss of a fitted law at (N, D) for a scheme (NaN when the scheme has no fitted efficiency).
 * Evaluated from the internal log-space θ with log-sum-exp, so a degenerate fit whose A or B overflows
 * a double still predicts finite losses.
 */
export function predictLoss(fit: FitResult, N: number, D: number, q: SchemeQuery = {}): number {
  const t = fit.theta;
  const lse = (x: number, y: number) => {
    const m = Math.max(x, y);
    return m === -Infinity ? m : m + Math.log(Math.exp(x - m) + Math.exp(y - m));
  };
  const lnN = Math.log(N), lnD = Math.log(D);
  if (fit.form === "chinchilla") return Math.exp(lse(t[4], lse(t[0] - t[1] * lnN, t[2] - t[3] * lnD)));
  if (fit.form === "quartet") {
    const { effN, effD } = efficiencies(fit, q);
    const lnS = lse(t[0] - t[1] * (lnN + Math.log(effN)), t[2] - t[3] * (lnD + Math.log(effD)));
    return Math.exp(lse(t[4], t[5] * lnS));
  }
  const eff = q.bits && q.bits.length ? kumarEff(fit, q.bits) : 1;
  return Math.exp(lse(t[4], lse(t[0] - t[1] * (lnN + Math.log(eff)), t[2] - t[3] * lnD)));
}

/**
 * A law from known constants (no data), e.g. the paper's Table 6, for frontiers and region maps.
 * `params` uses the public names (E, A, B, alpha, beta, gamma).
 */
export function lawFromParams(
  form: FormName,
  params: Record<string, number>,
  o: {
    effN?: Record<string, number>;
    effD?: Record<string, number>;
    baseline?: string;
    bitsColumns?: string[];
  } = {},
): FitResult {
  const theta = [Math.log(params.A), params.alpha, Math.log(params.B), params.beta, Math.log(params.E)];
  if (form === "quartet") theta.push(params.gamma);
  const bitsColumns = form === "kumar" ? o.bitsColumns ?? ["fwd_bits"] : [];
  if (form === "kumar") {
    for (const c of bitsColumns) {
      theta.push(Math.log(params[bitsColumns.length === 1 ? "gamma" : `gamma_${c}`]));
    }
  }
  return withDisplay({
    form,
    baseline: o.baseline ?? "bf16",
    delta: defaultDelta(form),
    params: { ...params },
    effN: { ...o.effN },
    effD: { ...o.effD },
    objective: NaN,
    objectives: {},
    points: 0,
    theta,
    bitsColumns,
    schemes: [],
    predictions: [],
    unconstrained: false,
    warnings: [],
  }, fitBundle);
}
