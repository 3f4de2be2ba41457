/**
 * The standard chart set for one fit and frontier, and the `plot` job: load an experiment's results,
 * fit, build the frontier, write every chart (SVG, PNG, HTML, spec) under results/<experiment>/charts/ —
 * with a PTQ stage's ptq.csv present, also δ against D/N per recipe (lib/charts/ptq.ts).
 * @module
 */
import { bootstrapCI } from "../fit/bootstrap.ts";
import { bopsModel, type CostModel } from "../fit/cost.ts";
import { DEFAULT_COLUMNS, readTable, toRuns } from "../fit/data.ts";
import { leaveLargestOut } from "../fit/extrapolate.ts";
import { executeFit, type FitResult, planFit } from "../fit/fit.ts";
import type { FormName } from "../fit/types.ts";
import { type Frontier, frontier, type FrontierOptions } from "../fit/frontier.ts";
import { fitSummary, writeAtomic } from "../fit/report.ts";
import { fitWarnings } from "../fit/warnings.ts";
import { type ChartFiles, writeChart } from "./render.ts";
import { ptqChartOf } from "./ptq.ts";
import {
  efficiencySpec,
  lossVsComputeSpec,
  lossVsTokensSpec,
  regionMapSpec,
  residualSpec,
  type VlSpec,
  withTitlePrefix,
} from "./specs.ts";

/** Every chart that applies to the fit: efficiencies need efficiencies, the region map a Quartet fit. */
export function chartSpecs(
  fit: FitResult,
  f: Frontier,
  o: { titlePrefix?: string } = {},
): Record<string, VlSpec> {
  const out: Record<string, VlSpec> = {
    loss_vs_tokens: lossVsTokensSpec(fit),
    loss_vs_compute: lossVsComputeSpec(f),
  };
  if (Object.keys(fit.effN).length + Object.keys(fit.effD).length > 0) out.efficiency = efficiencySpec(fit);
  if (f.regions?.length) out.regions = regionMapSpec(f);
  out.residuals = residualSpec(fit);
  if (o.titlePrefix) { for (const k of Object.keys(out)) out[k] = withTitlePrefix(out[k], o.titlePrefix); }
  return out;
}

/** Writes each spec as <name>.{vl.json,svg,png,html} into dir. */
export async function writeCharts(
  dir: string,
  specs: Record<string, VlSpec>,
): Promise<Record<string, ChartFiles>> {
  const out: Record<string, ChartFiles> = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = await writeChart(dir, name, spec);
  return out;
}

/** What `plot` does. */
export interface PlotOptions {
  /** Law form (default quartet). */
  form?: FormName;
  /** Baseline label (default bf16). */
  baseline?: string;
  /** Base parameters held fixed, by θ name (see FitOptions.fixed; default none). */
  fixed?: Record<string, number>;
  /** Bootstrap resamples for the efficiency bars (default 100; 0 for none). */
  bootstrap?: number;
  /** Cost model (default: bit-operations, FP8-costed baseline). */
  cost?: CostModel;
  /** Frontier settings (compute range, region map). */
  frontier?: FrontierOptions;
  /** Output directory (default <results dir>/charts). */
  out?: string;
}

/** The plot job's products. */
export interface PlotResult {
  /** The fit behind the charts. */
  fit: FitResult;
  /** The frontier behind the charts. */
  frontier: Frontier;
  /** Directory the charts were written to. */
  dir: string;
  /** Files per chart name. */
  files: Record<string, ChartFiles>;
}

/**
 * Loads a results directory, fits (default Quartet), bootstraps, builds the frontier, and writes the charts
 * plus fit.json (the fit behind them) and frontier.json into <dir>/charts. Input errors are FitInputError.
 */
export async function plotExperiment(resultsDir: string, o: PlotOptions = {}): Promise<PlotResult> {
  const form = o.form ?? "quartet";
  const table = await readTable(resultsDir);
  const runs = toRuns(table, form, DEFAULT_COLUMNS);
  const plan = planFit(runs, { form, baseline: o.baseline, fixed: o.fixed });
  const fit = executeFit(plan);
  const B = o.bootstrap ?? 100;
  if (B > 0) fit.ci = bootstrapCI(plan, fit, { samples: B });
  fit.extrapolation = leaveLargestOut(runs, { form, baseline: o.baseline, fixed: o.fixed });
  fit.warnings = fitWarnings(fit);
  const f = frontier(fit, o.cost ?? bopsModel(plan.baseline), o.frontier);
  const dir = o.out ?? `${table.dir ?? resultsDir}/charts`;
  await Deno.mkdir(dir, { recursive: true });
  // Results written by lib/fit/synthetic.ts carry a SYNTHETIC marker: say so on every chart.
  const synthetic = await Deno.stat(`${table.dir ?? resultsDir}/SYNTHETIC`).then(() => true, () => false);
  // A fit with warnings says so on every chart, so a PNG shown on its own cannot mislead.
  const n = fit.warnings.length;
  const prefix = (synthetic ? "SYNTHETIC DATA: " : "") +
    (n ? `ILL-DETERMINED FIT (${n} warning${n > 1 ? "s" : ""} in fit.json): ` : "");
  const files = await writeCharts(dir, chartSpecs(fit, f, { titlePrefix: prefix || undefined }));
  // An experiment with a PTQ stage (ptq.csv): δ against D/N per recipe (lib/charts/ptq.ts).
  const ptq = await ptqChartOf(table.dir ?? resultsDir);
  if (ptq) {
    files.ptq_delta = await writeChart(
      dir,
      "ptq_delta",
      synthetic ? withTitlePrefix(ptq, "SYNTHETIC DATA: ") : ptq,
    );
  }
  await writeAtomic(`${dir}/fit.json`, JSON.stringify(fitSummary(fit), null, 2) + "\n");
  await writeAtomic(
    `${dir}/frontier.json`,
    JSON.stringify(
      { cost: f.cost, form: f.form, optima: f.optima, regionCandidates: f.regionCandidates },
      null,
      2,
    ) + "\n",
  );
  return { fit, frontier: f, dir, files };
}
