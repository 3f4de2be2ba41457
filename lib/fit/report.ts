/**
 * Fit results as files and text: the JSON summary (fit.json and `--json`), the per-run CSV (fit.csv), and
 * a plain-text table for terminals and notebooks. Files are written atomically.
 * @module
 */
import { stringify } from "csv-stringify/sync";
import { type MimeBundle, tableBundle } from "./display.ts";
import { writeTextAtomic } from "../results/atomic.ts";
import type { FitResult } from "./types.ts";
import { fitWarnings } from "./warnings.ts";
import { replicateSummary } from "./replicates.ts";

/**
 * The documented JSON shape: {form, params, effN, effD, objective, points, ci?, warnings} plus context.
 * `warnings` is recomputed here, so it includes the bootstrap and extrapolation checks.
 */
export function fitSummary(fit: FitResult): Record<string, unknown> {
  const out: Record<string, unknown> = {
    form: fit.form,
    params: fit.params,
    effN: fit.effN,
    effD: fit.effD,
    objective: fit.objective,
    points: fit.points,
  };
  if (fit.ci) out.ci = fit.ci;
  out.warnings = fitWarnings(fit);
  out.objectives = fit.objectives;
  out.delta = fit.delta;
  out.baseline = fit.baseline;
  if (fit.unconstrained) out.unconstrained = true;
  if (fit.fixed && Object.keys(fit.fixed).length) out.fixed = fit.fixed;
  if (fit.extrapolation !== undefined) out.extrapolation = fit.extrapolation;
  if (fit.notes?.length) out.notes = fit.notes;
  const reps = fittedReplicates(fit);
  if (reps.replicated) out.replicates = reps;
  return out;
}

/** Replicates (runs at equal scheme, N and D: seeds) among the fitted runs; see ./replicates.ts. */
export function fittedReplicates(fit: FitResult): ReturnType<typeof replicateSummary> {
  const seen = new Set<string>();
  const runs = fit.predictions.filter((p) => !seen.has(p.id) && !!seen.add(p.id))
    .map((p) => ({ id: p.id, N: p.N, D: p.D, L: p.observed, fwd: p.fwd, bwd: p.bwd, bits: [] }));
  return replicateSummary(runs);
}

/** One row per fitted run: observed, predicted, ln residual. */
export function predictionsCsv(fit: FitResult): string {
  const columns = ["run_id", "group", "scheme", "fwd", "bwd", "N", "D", "observed", "predicted", "residual"];
  return stringify(
    fit.predictions.map((
      p,
    ) => [p.id, p.group, p.scheme, p.fwd, p.bwd, p.N, p.D, p.observed, p.predicted, p.residual]),
    { header: true, columns },
  );
}

/** Writes text to path through a temporary file and a rename, so readers never see half a file. */
export function writeAtomic(path: string, text: string): Promise<void> {
  return writeTextAtomic(path, text);
}

/**
 * The directory fit outputs go to: `out` when given; an experiment's results directory (or the directory of
 * a runs.csv); for any other CSV a directory named after it in the working directory (`points.csv` →
 * `./points-fit/`), so nothing is written beside someone's data unasked.
 */
export function fitOutputDir(input: { path: string; dir?: string }, out?: string): string {
  if (out) return out.replace(/\/+$/, "") || "/";
  if (input.dir) return input.dir;
  const slash = input.path.lastIndexOf("/");
  const base = input.path.slice(slash + 1);
  if (base === "runs.csv") return slash >= 0 ? input.path.slice(0, slash) : ".";
  return `${base.replace(/\.csv$/i, "")}-fit`;
}

/** Where fit.json / fit.csv go (see fitOutputDir). */
export function fitOutputPaths(
  input: { path: string; dir?: string },
  out?: string,
): { json: string; csv: string } {
  const dir = fitOutputDir(input, out);
  return { json: `${dir}/fit.json`, csv: `${dir}/fit.csv` };
}

/** Writes fit.json and fit.csv (creating the directory); returns their paths. */
export async function writeFit(
  fit: FitResult,
  input: { path: string; dir?: string },
  out?: string,
): Promise<{ json: string; csv: string }> {
  const paths = fitOutputPaths(input, out);
  await writeAtomic(paths.json, JSON.stringify(fitSummary(fit), null, 2) + "\n");
  await writeAtomic(paths.csv, predictionsCsv(fit));
  return paths;
}

/** Number formatting for tables: 4 significant digits, exponent when large or small. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

/** Rows [kind, name, value, low, high] of a fit, for text and HTML tables. */
export function fitTableRows(fit: FitResult): string[][] {
  const rows: string[][] = [];
  const ci = fit.ci;
  const iv = (m: Record<string, [number, number]> | undefined, k: string) =>
    m?.[k] ? [fmt(m[k][0]), fmt(m[k][1])] : ["", ""];
  for (const [k, v] of Object.entries(fit.params)) rows.push(["param", k, fmt(v), ...iv(ci?.params, k)]);
  for (const [k, v] of Object.entries(fit.effN)) rows.push(["effN", k, fmt(v), ...iv(ci?.effN, k)]);
  for (const [k, v] of Object.entries(fit.effD)) rows.push(["effD", k, fmt(v), ...iv(ci?.effD, k)]);
  rows.push(["fit", "objective", fmt(fit.objective), "", ""]);
  rows.push(["fit", "points", String(fit.points), "", ""]);
  if (fit.extrapolation === null) {
    rows.push(["extrap", "leave-largest-model-out", "n/a", "", ""]); // too few runs/sizes without the largest
  }
  if (fit.extrapolation) {
    rows.push([
      "extrap",
      `mean |rel err| @N=${fmt(fit.extrapolation.heldOutN)}`,
      fmt(fit.extrapolation.meanAbsRelError),
      "",
      "",
    ]);
  }
  return rows;
}

/** Aligned plain-text table with a header. */
export function plainTable(header: string[], rows: string[][]): string {
  const w = header.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? "").length)));
  const line = (r: string[]) => r.map((c, k) => (c ?? "").padEnd(w[k])).join("  ").trimEnd();
  return [line(header), line(w.map((n) => "-".repeat(n))), ...rows.map(line)].join("\n");
}

/** The warnings as text lines ("" when there are none). */
export function warningsText(fit: FitResult): string {
  const w = fitWarnings(fit);
  return w.length
    ? `WARNING: the fit is degenerate or ill-determined:\n${w.map((s) => `  - ${s}`).join("\n")}`
    : "";
}

/** A fit as a plain-text table, followed by its warnings. */
export function fitText(fit: FitResult): string {
  const level = fit.ci ? `${Math.round(fit.ci.level * 100)}% low` : "low";
  const w = warningsText(fit);
  const notes = (fit.notes ?? []).map((n) => `note: ${n}\n`).join("");
  const baseline = fit.law.reads.labels === "none" ? "" : `, baseline ${fit.baseline}`;
  const fixed = Object.entries(fit.fixed ?? {}).map(([k, v]) => `, ${k} fixed at ${v}`).join("");
  return `${fit.form} fit: ${fit.law.summary} (Huber δ = ${fit.delta}${baseline}${fixed})\n` + notes +
    plainTable(["kind", "name", "value", level, "high"], fitTableRows(fit)) + (w ? `\n${w}` : "");
}

/** The Jupyter bundle of a fit: its parameter table as HTML, Markdown and text. */
export function fitBundle(fit: FitResult): MimeBundle {
  const level = fit.ci ? `${Math.round(fit.ci.level * 100)}% low` : "low";
  return tableBundle(
    ["kind", "name", "value", level, "high"],
    fitTableRows(fit),
    fitText(fit),
    `${fit.form} fit (Huber δ = ${fit.delta}, baseline ${fit.baseline}, ${fit.points} points)`,
  );
}
