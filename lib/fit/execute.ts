/**
 * Executing a fit plan: the base fit (multi-start L-BFGS over the form's grid), then the form's stages with
 * the base frozen, then public parameters, efficiencies, predictions and warnings.
 * @module
 */
import { withDisplay } from "./display.ts";
import { runData } from "./law.ts";
import { multiStart } from "./multistart.ts";
import { planFit, schemeName } from "./plan.ts";
import { predictor } from "./query.ts";
import { fitBundle } from "./report.ts";
import type { ExecuteOptions, FitOptions, FitPlan, FitResult, Run, SchemeInfo } from "./types.ts";
import { fitWarnings } from "./warnings.ts";

/** Executes a plan: the base fit, then (Quartet) the efficiency fits with the base frozen. */
export function executeFit(plan: FitPlan, o: ExecuteOptions = {}): FitResult {
  const { law, runs, delta, context } = plan;
  const layout = law.layout(context);
  const w = (ids: number[]) => (o.weights ? Float64Array.from(ids, (i) => o.weights![i]) : undefined);
  const objectives: Record<string, number> = {};
  const eff = { effN: {} as Record<string, number>, effD: {} as Record<string, number> };
  const positive = plan.unconstrained ? [] : layout.exponents;

  const baseTask = plan.tasks[0];
  const fixed = plan.fixed ?? {};
  const theta0 = new Float64Array(layout.names.length);
  for (const [name, v] of Object.entries(fixed)) theta0[layout.names.indexOf(name)] = v;
  const starts = o.warm ? [warmStart(o.warm, layout.names, baseTask.free)] : projectGrid(
    plan.grid ?? law.grid(context),
    layout.base ?? layout.names.map((_, k) => k),
    baseTask.free,
  );
  const base = multiStart(law, runData(runs, context, baseTask.runs), {
    delta,
    starts,
    free: baseTask.free,
    weights: w(baseTask.runs),
    theta: theta0,
    positive: positive.filter((k) => baseTask.free.includes(k)),
    positiveFloor: o.warm ? 1e-12 : undefined,
  });
  objectives.base = base.objective;
  const theta = base.theta;

  for (const t of plan.tasks.slice(1)) {
    const tpl = Float64Array.from(theta);
    for (const k of t.free) tpl[k] = 0;
    const r = multiStart(law, runData(runs, context, t.runs), {
      delta,
      starts: law.stages!.starts(t, o.warm),
      free: t.free,
      theta: tpl,
      weights: w(t.runs),
      positive: positive.filter((k) => t.free.includes(k)),
      keep: 2,
    });
    law.stages!.collect(t, r.theta, eff);
    objectives[`${t.kind}:${t.label}`] = r.objective;
  }

  const schemes = schemesOf(plan);
  const derived = law.efficiencies(theta, context, schemes);
  const fit: FitResult = {
    form: law.name,
    law,
    context,
    baseline: plan.baseline,
    delta,
    params: law.params(theta, context),
    effN: { ...eff.effN, ...derived.effN },
    effD: { ...eff.effD, ...derived.effD },
    objective: Object.values(objectives).reduce((a, b) => a + b, 0),
    objectives,
    points: plan.tasks.reduce((a, t) => a + t.runs.length, 0),
    theta: Array.from(theta),
    bitsColumns: law.reads.bits ? plan.bitsColumns : [],
    schemes,
    predictions: [],
    unconstrained: plan.unconstrained,
    ...(Object.keys(fixed).length ? { fixed: { ...fixed } } : {}),
    warnings: [],
  };
  fit.predictions = plan.tasks.flatMap((t) =>
    t.runs.map((i) => {
      const r = runs[i];
      const predicted = predictor(fit, { fwd: r.fwd, bwd: r.bwd, bits: r.bits })(r.N, r.D);
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

/**
 * A base grid (columns = the form's base parameters) restricted to the free ones, duplicates dropped in
 * order; the grid itself when nothing is fixed.
 */
function projectGrid(grid: number[][], base: number[], free: number[]): number[][] {
  if (free.length === base.length) return grid;
  const cols = free.map((k) => base.indexOf(k)), seen = new Set<string>(), out: number[][] = [];
  for (const s of grid) {
    const p = cols.map((c) => s[c]), key = p.join(",");
    if (!seen.has(key)) seen.add(key), out.push(p);
  }
  return out;
}

/** A warm fit's θ at the free entries, matched by θ name (the layouts differ when labels do); 0 when absent. */
function warmStart(warm: FitResult, names: string[], free: number[]): number[] {
  const wn = warm.law.layout(warm.context).names;
  return free.map((k) => {
    const j = wn.indexOf(names[k]);
    return j >= 0 ? warm.theta[j] : 0;
  });
}

/** Plans and executes in one call. */
export function fitRuns(runs: Run[], opts: FitOptions): FitResult {
  return executeFit(planFit(runs, opts));
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
