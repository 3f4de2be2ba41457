/**
 * Planning a fit: resolve the form, group and validate runs, lay out θ, before any work. A plan is executed
 * by lib/fit/execute.ts (once, or many times for the bootstrap).
 * @module
 */
import { FitInputError } from "./errors.ts";
import { formNamed } from "./forms/mod.ts";
import { effLabels } from "./law.ts";
import type { FitOptions, FitPlan, FitTask, FormContext, LawForm, Run } from "./types.ts";

/** Scheme name of a (fwd, bwd) pair. */
export function schemeName(fwd: string, bwd: string): string {
  return fwd === "" && bwd === "" ? "all" : `${fwd}:${bwd}`;
}

/** A form from a name or itself (FitInputError with suggestions for an unknown name). */
export function resolveForm(form: string | LawForm): LawForm {
  return typeof form === "string" ? formNamed(form) : form;
}

/** Groups and validates runs; throws FitInputError (labels absent, fewer points than parameters). */
export function planFit(runs: Run[], opts: FitOptions): FitPlan {
  const law = resolveForm(opts.form), baseline = opts.baseline ?? "bf16";
  const delta = opts.delta ?? law.defaultDelta;
  if (!(delta > 0)) throw new FitInputError(`--delta must be positive, got ${opts.delta}`);
  const bitsColumns = opts.bitsColumns ?? ["fwd_bits"];
  if (runs.length === 0) throw new FitInputError("no finished runs to fit");
  const labelled = runs.some((r) => r.fwd !== "" || r.bwd !== "");
  const isBase = (r: Run) =>
    r.fwd === baseline && (r.bwd === baseline || (law.reads.labels === "fwd" && r.bwd === ""));
  const idx = (pred: (r: Run) => boolean) => runs.flatMap((r, i) => (pred(r) ? [i] : []));
  const present = () => [...new Set(runs.map((r) => schemeName(r.fwd, r.bwd)))].join(", ");
  const context: FormContext = { baseline, bitsColumns, labels: effLabels(runs, baseline) };
  const layout = law.layout(context);
  const allBase = layout.base ?? layout.names.map((_, k) => k);
  const fixed = opts.fixed ?? {};
  for (const [name, v] of Object.entries(fixed)) {
    const k = layout.names.indexOf(name);
    if (k < 0 || !allBase.includes(k)) {
      throw new FitInputError(
        `cannot fix "${name}": the ${law.name} form's base parameters are ${
          allBase.map((i) => layout.names[i]).join(", ")
        }`,
      );
    }
    if (!Number.isFinite(v)) {
      throw new FitInputError(`the fixed value of ${name} must be a finite number, got ${v}`);
    }
  }
  const base = allBase.filter((k) => !(layout.names[k] in fixed));
  if (base.length === 0) throw new FitInputError("every base parameter is fixed: nothing to fit");
  const need = (n: number, p: number, what: string) => {
    if (n < p) {
      throw new FitInputError(`the ${law.name} form has ${p} parameters but only ${n} ${what} to fit them`);
    }
  };
  const tasks: FitTask[] = [];
  if (law.baseRuns === "all" || !labelled) {
    need(runs.length, base.length, "runs");
    tasks.push({ kind: "base", label: "all", group: "all", runs: idx(() => true), free: base });
  } else {
    const b = idx(isBase);
    if (b.length === 0) {
      throw new FitInputError(
        `no baseline runs (fwd = bwd = '${baseline}'); set --baseline to the unquantized label (schemes present: ${present()})`,
      );
    }
    need(b.length, base.length, `baseline runs (fwd = bwd = '${baseline}')`);
    tasks.push({ kind: "base", label: baseline, group: "baseline", runs: b, free: base });
  }
  if (law.stages) {
    for (const t of law.stages.tasks(runs, baseline)) {
      tasks.push({ ...t, free: law.stages.free(t as FitTask) });
    }
  }
  return {
    law,
    form: law.name,
    context,
    baseline,
    delta,
    runs,
    tasks,
    bitsColumns,
    grid: opts.grid,
    unconstrained: !!opts.unconstrained,
    fixed: { ...fixed },
  };
}
