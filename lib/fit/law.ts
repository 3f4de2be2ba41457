/**
 * Making law forms: `defineForm` turns a short spec (θ names, starts, ln L̂) into a complete `LawForm`,
 * filling in defaults and, when the spec gives no gradient, central finite differences. Built-in forms and
 * users' modules (`--form ./my-law.ts`) go through the same function. Also: the typed-array point layout
 * (`lawData`, `runData`) and the efficiency label of a run.
 * @module
 */
import { FitInputError } from "./errors.ts";
import type {
  FitResult,
  FormContext,
  FormStages,
  LawData,
  LawForm,
  Optimum,
  ParamLayout,
  RowNeeds,
  Run,
  SchemePoint,
  SchemeQuery,
  WarningOptions,
} from "./types.ts";

/** What a form module writes; everything but name, θ names, starts and lnPredict has a default. */
export interface FormSpec {
  /** Name (`--form NAME`; a user module's own name is shown in the output). */
  name: string;
  /** One line: the formula (default: the name). */
  summary?: string;
  /** What the loss column holds (default "loss"). */
  target?: string;
  /** Default Huber δ (default 1e-3). */
  defaultDelta?: number;
  /** Columns read besides N, D, L (default: labels when present, no bits). */
  reads?: Partial<RowNeeds>;
  /** Base-fit runs (default "all"). */
  baseRuns?: "all" | "baseline";
  /** Public names of scale constants (default none). */
  scaleParams?: string[];
  /** Compute frontiers apply (default true). */
  frontier?: boolean;
  /** Region map applies (default false). */
  regions?: boolean;
  /** θ names (a function when they depend on the data, e.g. one per precision column). */
  names: string[] | ((ctx: FormContext) => string[]);
  /** θ names of the exponents, kept positive unless --unconstrained (default none). */
  exponents?: string[];
  /** θ names the base fit moves (default all). */
  base?: (ctx: FormContext) => string[];
  /** Starting points of the base fit, over its θ entries in order (a function when they depend on the data). */
  starts: number[][] | ((ctx: FormContext) => number[][]);
  /** ln L̂ at point i; when `gradient` is true it also writes d ln L̂/dθ into `grad` (when given). */
  lnPredict(theta: Float64Array, data: LawData, i: number, grad?: Float64Array | null): number;
  /** True when lnPredict writes the gradient; otherwise central finite differences are used. */
  gradient?: boolean;
  /** Public parameters from θ (default: θ by name). */
  params?(theta: Float64Array, ctx: FormContext): Record<string, number>;
  /** θ from public parameters and efficiencies (default: by name). */
  theta?: LawForm["theta"];
  /** Derived efficiencies (default none). */
  efficiencies?: LawForm["efficiencies"];
  /** Prediction point of a scheme (default: the fit's θ, the query's bits, baseline label). */
  scheme?(fit: FitResult, q: SchemeQuery): SchemePoint;
  /** Closed-form compute optimum. */
  optimum?(fit: FitResult, C: number, speedup: number): Optimum;
  /** Stages after the base fit. */
  stages?: FormStages;
  /** The form's own warnings (default none). */
  warnings?(fit: FitResult, o: WarningOptions): string[];
}

/** Central-difference gradient of a value-only lnPredict (relative step 1e-6). */
function finiteDifferences(f: FormSpec["lnPredict"]): LawForm["lnPredict"] {
  let tp = new Float64Array(0);
  return (theta, data, i, grad) => {
    const v = f(theta, data, i, null);
    if (grad) {
      if (tp.length !== theta.length) tp = new Float64Array(theta.length);
      tp.set(theta);
      for (let k = 0; k < theta.length; k++) {
        const h = 1e-6 * Math.max(1, Math.abs(theta[k]));
        tp[k] = theta[k] + h;
        const up = f(tp, data, i, null);
        tp[k] = theta[k] - h;
        const down = f(tp, data, i, null);
        tp[k] = theta[k];
        grad[k] = (up - down) / (2 * h);
      }
    }
    return v;
  };
}

const isNumArray = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x));

/** Builds a complete LawForm from a spec; throws FitInputError (one line) when the spec is malformed. */
export function defineForm(spec: FormSpec): LawForm {
  const bad = (msg: string): never => {
    throw new FitInputError(`law form${typeof spec?.name === "string" ? ` '${spec.name}'` : ""}: ${msg}`);
  };
  if (typeof spec !== "object" || spec === null) bad("not an object");
  if (typeof spec.name !== "string" || spec.name === "") bad("needs a non-empty string `name`");
  if (typeof spec.lnPredict !== "function") bad("needs a function `lnPredict(theta, data, i)`");
  if (!Array.isArray(spec.names) && typeof spec.names !== "function") bad("needs `names`, the θ names");
  if (!Array.isArray(spec.starts) && typeof spec.starts !== "function") {
    bad("needs `starts`, a list of θ starts");
  }
  const namesOf = (ctx: FormContext) => typeof spec.names === "function" ? spec.names(ctx) : spec.names;
  const layout = (ctx: FormContext): ParamLayout => {
    const names = namesOf(ctx);
    if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) bad("`names` must be strings");
    const index = (n: string) => {
      const k = names.indexOf(n);
      return k >= 0 ? k : bad(`'${n}' is not one of its names (${names.join(", ")})`);
    };
    const out: ParamLayout = { names, exponents: (spec.exponents ?? []).map(index) };
    if (spec.base) out.base = spec.base(ctx).map(index);
    return out;
  };
  const grid = (ctx: FormContext) => {
    const starts = typeof spec.starts === "function" ? spec.starts(ctx) : spec.starts;
    const l = layout(ctx), width = (l.base ?? l.names).length;
    if (!Array.isArray(starts) || starts.length === 0) bad("`starts` is empty");
    for (const s of starts) {
      if (!isNumArray(s) || s.length !== width) {
        bad(`every start must be ${width} finite numbers (one per fitted θ), got ${JSON.stringify(s)}`);
      }
    }
    return starts;
  };
  const byName = (theta: Float64Array, ctx: FormContext) =>
    Object.fromEntries(namesOf(ctx).map((n, k) => [n, theta[k]]));
  const fromNames = (p: Record<string, number>, ctx: FormContext) =>
    namesOf(ctx).map((n) => Object.hasOwn(p, n) ? p[n] : bad(`parameter '${n}' is missing`));
  return {
    name: spec.name,
    summary: spec.summary ?? spec.name,
    target: spec.target ?? "loss",
    defaultDelta: spec.defaultDelta ?? 1e-3,
    reads: { labels: spec.reads?.labels ?? "optional", bits: spec.reads?.bits ?? false },
    baseRuns: spec.baseRuns ?? "all",
    scaleParams: spec.scaleParams ?? [],
    frontier: spec.frontier ?? true,
    regions: spec.regions ?? false,
    layout,
    grid,
    lnPredict: spec.gradient ? (spec.lnPredict as LawForm["lnPredict"]) : finiteDifferences(spec.lnPredict),
    params: spec.params ?? byName,
    theta: spec.theta ?? fromNames,
    efficiencies: spec.efficiencies ?? (() => ({ effN: {}, effD: {} })),
    scheme: spec.scheme ??
      ((fit, q) => ({ theta: Float64Array.from(fit.theta), bits: q.bits ?? [], label: -1 })),
    optimum: spec.optimum,
    stages: spec.stages,
    warnings: spec.warnings ?? (() => []),
  };
}

/** ln(eˣ + eʸ) without overflow. */
export function lse(x: number, y: number): number {
  const m = Math.max(x, y);
  return m === -Infinity ? m : m + Math.log(Math.exp(x - m) + Math.exp(y - m));
}

/** Builds LawData from plain arrays (bits: one array per precision column; label: index per point, −1 baseline). */
export function lawData(
  N: ArrayLike<number>,
  D: ArrayLike<number>,
  L: ArrayLike<number>,
  bits: ArrayLike<number>[] = [],
  label?: ArrayLike<number>,
): LawData {
  const n = N.length;
  const lnN = new Float64Array(n), lnD = new Float64Array(n), lnL = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    lnN[i] = Math.log(N[i]);
    lnD[i] = Math.log(D[i]);
    lnL[i] = Math.log(L[i]);
  }
  const lab = label ? Int32Array.from(label) : new Int32Array(n).fill(-1);
  return { n, lnN, lnD, lnL, bits: bits.map((b) => Float64Array.from(b)), label: lab };
}

/**
 * The efficiency label of a run: "" for the baseline (fwd = bwd = baseline, or fwd = baseline and no bwd
 * column; unlabelled runs too), the forward label when the backward pass is the baseline's (or there is no
 * bwd column), else "fwd:bwd".
 */
export function effLabel(r: { fwd: string; bwd: string }, baseline: string): string {
  const bwdBase = r.bwd === baseline || r.bwd === "";
  if ((r.fwd === baseline || r.fwd === "") && bwdBase) return "";
  return bwdBase ? r.fwd : `${r.fwd}:${r.bwd}`;
}

/** The non-baseline efficiency labels of some runs, sorted. */
export function effLabels(runs: Run[], baseline: string): string[] {
  return [...new Set(runs.map((r) => effLabel(r, baseline)).filter((l) => l !== ""))].sort();
}

/** LawData of the runs `ids` (all when absent) in a context. */
export function runData(runs: Run[], ctx: FormContext, ids?: number[]): LawData {
  const rs = ids ? ids.map((i) => runs[i]) : runs;
  const bits = rs.length && rs[0].bits.length ? rs[0].bits.map((_, k) => rs.map((r) => r.bits[k])) : [];
  const index = new Map(ctx.labels.map((l, k) => [l, k]));
  const label = rs.map((r) => {
    const l = effLabel(r, ctx.baseline);
    return l === "" ? -1 : index.get(l) ?? -1;
  });
  return lawData(rs.map((r) => r.N), rs.map((r) => r.D), rs.map((r) => r.L), bits, label);
}
