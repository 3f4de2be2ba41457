/**
 * `deno task fit INPUT --form NAME|./my-law.ts|isoflop [...]`: fits a scaling law (or runs an Approach-2
 * isoFLOP analysis) on an experiment's results directory (its runs.csv) or any CSV, writes the results into
 * the experiment's directory (or `./<csv-stem>-fit/`, or --out DIR), prints a table (or JSON with --json).
 * Bad input: one line on stderr, exit 2, before any fitting.
 * @module
 */
import { parseArgs } from "node:util";
import { writeChart } from "../lib/charts/render.ts";
import { isoflopSpec } from "../lib/charts/isoflop.ts";
import { bootstrapCI } from "../lib/fit/bootstrap.ts";
import { DEFAULT_COLUMNS, FitInputError, readTable, toRuns } from "../lib/fit/data.ts";
import { executeFit } from "../lib/fit/execute.ts";
import { leaveLargestOut } from "../lib/fit/extrapolate.ts";
import { applyFilters, dropTopLoss, parseWhere } from "../lib/fit/filter.ts";
import { FORM_NAMES, formNamed } from "../lib/fit/forms/mod.ts";
import { fitIsoflop, isoflopSummary, isoflopText } from "../lib/fit/isoflop.ts";
import { planFit } from "../lib/fit/plan.ts";
import { fitOutputDir, fitSummary, fitText, warningsText, writeAtomic, writeFit } from "../lib/fit/report.ts";
import type { ColumnMap, LawForm, Run, WarningOptions } from "../lib/fit/types.ts";
import { isFormPath, loadForm } from "../lib/fit/user_form.ts";
import { fitWarnings } from "../lib/fit/warnings.ts";

const USAGE = `usage: deno task fit INPUT --form FORM [options]

INPUT   an experiment's results directory (its runs.csv) or any CSV
FORM    ${FORM_NAMES.join(" | ")} | isoflop | ./my-law.ts (a module exporting a law form)

columns   --n-col NAME --d-col NAME --loss-col NAME --fwd-col NAME --bwd-col NAME --bits-col NAME[,NAME]
          --c-col NAME     training compute C; without --d-col, D = C/(6N) (said in the output)
rows      --where EXPR     keep rows where COLUMN OP VALUE holds (OP: = != < <= > >=); repeatable, all must hold
          --drop-top-loss K  drop the K runs with the highest loss
fit       --baseline LABEL --delta X --unconstrained --bootstrap B --seed S --no-extrapolation
          --fix NAME=V     hold a base parameter at V (θ name: a, alpha, b, beta, e, gamma; a, b, e are logs),
                           e.g. --form quartet --fix gamma=1 (the γ = 1 variant); repeatable
warnings  --ci-width X (0.5): flag a parameter whose 95% interval is wider than X × its estimate
          --ci-factor-scale F (1000): the same for A, B, C_T by high/low ratio
output    --out DIR (default: the experiment's directory; for a CSV, ./<name>-fit/) --json

isoflop (Approach 2): per compute budget (--c-col, else 6·N·D) a parabola in ln N; N* ∝ C^a, D* ∝ C^b;
writes isoflop.json, isoflop.csv and the chart isoflop.{svg,png,html,vl.json}.
Exponents are kept positive unless --unconstrained. Warnings go to stderr (and into the JSON as "warnings").`;

function fail(msg: string): never {
  console.error(`fit: ${msg}`);
  Deno.exit(2);
}

const num = (v: string | undefined, name: string, ok: (x: number) => boolean, what: string) => {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === "" || !ok(x)) fail(`--${name} must be ${what}, got '${v}'`);
  return x;
};

async function main(args: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        form: { type: "string" },
        "n-col": { type: "string", default: DEFAULT_COLUMNS.n },
        "d-col": { type: "string" },
        "c-col": { type: "string" },
        "loss-col": { type: "string", default: DEFAULT_COLUMNS.loss },
        "fwd-col": { type: "string", default: DEFAULT_COLUMNS.fwd },
        "bwd-col": { type: "string", default: DEFAULT_COLUMNS.bwd },
        "bits-col": { type: "string", multiple: true },
        where: { type: "string", multiple: true },
        "drop-top-loss": { type: "string" },
        out: { type: "string" },
        baseline: { type: "string", default: "bf16" },
        delta: { type: "string" },
        bootstrap: { type: "string", default: "0" },
        seed: { type: "string", default: "1" },
        "ci-width": { type: "string" },
        "ci-factor-scale": { type: "string" },
        "no-extrapolation": { type: "boolean", default: false },
        unconstrained: { type: "boolean", default: false },
        fix: { type: "string", multiple: true },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    fail(`${(e as Error).message.split("\n")[0]} (see --help)`);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    return;
  }
  if (parsed.positionals.length !== 1) fail("expected one INPUT (results directory or CSV); see --help");
  if (v.form === undefined) fail(`--form is required: ${FORM_NAMES.join(", ")}, isoflop or ./my-law.ts`);
  const delta = num(v.delta, "delta", (x) => x > 0, "a positive number");
  const B = num(v.bootstrap, "bootstrap", (x) => Number.isInteger(x) && x >= 0, "a non-negative integer")!;
  const seed = num(v.seed, "seed", Number.isInteger, "an integer")!;
  const dropK = num(
    v["drop-top-loss"],
    "drop-top-loss",
    (x) => Number.isInteger(x) && x >= 0,
    "a non-negative integer",
  ) ?? 0;
  const warningOptions: WarningOptions = {
    ciWidth: num(v["ci-width"], "ci-width", (x) => x > 0, "a positive number"),
    ciFactorScale: num(v["ci-factor-scale"], "ci-factor-scale", (x) => x > 1, "a number above 1"),
  };
  const fixed: Record<string, number> = {};
  for (const f of v.fix ?? []) {
    const m = /^([A-Za-z_]\w*)=(.+)$/.exec(f);
    const x = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(x)) {
      fail(`--fix takes NAME=VALUE (a θ name and a number, e.g. gamma=1), got "${f}"`);
    }
    fixed[m![1]] = x;
  }
  const bits = v["bits-col"]?.flatMap((s) => s.split(",")).filter(Boolean) ?? DEFAULT_COLUMNS.bits;
  const isoflop = v.form === "isoflop";

  // Everything that can be wrong with the input is found here, before any fitting.
  let law: LawForm | null = null, runs: Run[], table;
  const notes: string[] = [];
  try {
    const filters = (v.where ?? []).map(parseWhere);
    if (!isoflop) law = isFormPath(v.form) ? await loadForm(v.form) : formNamed(v.form);
    table = await readTable(parsed.positionals[0]);
    const cols: ColumnMap = {
      ...DEFAULT_COLUMNS,
      n: v["n-col"]!,
      d: v["d-col"] ?? (v["c-col"] ? "" : DEFAULT_COLUMNS.d),
      loss: v["loss-col"]!,
      fwd: v["fwd-col"]!,
      bwd: v["bwd-col"]!,
      bits,
      c: v["c-col"],
    };
    if (cols.d === "") notes.push(`D = C/(6N) from column '${cols.c}' (no --d-col given)`);
    const kept = applyFilters(table, filters);
    if (filters.length) {
      notes.push(
        `--where ${
          filters.map((f) => f.text).join(" and ")
        }: kept ${kept.rows.length} of ${table.rows.length} rows`,
      );
    }
    runs = toRuns(kept, law ?? { labels: "none", bits: false }, cols);
    if (dropK > 0) {
      const d = dropTopLoss(runs, dropK);
      runs = d.runs;
      notes.push(
        `--drop-top-loss ${dropK}: dropped ${d.dropped.map((r) => `${r.id} (L = ${r.L})`).join(", ")}`,
      );
    }
    if (runs.length === 0) throw new FitInputError("no runs left to fit after filtering");
    if (isoflop) {
      await isoflopMain(runs, fitOutputDir(table, v.out), {
        B,
        seed,
        json: v.json,
        notes,
        ciWidth: warningOptions.ciWidth,
      });
      return;
    }
  } catch (e) {
    if (e instanceof FitInputError) fail(e.message);
    throw e;
  }

  const opts = {
    form: law!,
    baseline: v.baseline,
    delta,
    bitsColumns: bits,
    unconstrained: v.unconstrained,
    fixed,
  };
  let plan, fit;
  try {
    plan = planFit(runs, opts);
    fit = executeFit(plan);
  } catch (e) {
    if (e instanceof FitInputError) fail(e.message);
    throw e;
  }
  fit.notes = notes;
  fit.warningOptions = warningOptions;
  if (B > 0) fit.ci = bootstrapCI(plan, fit, { samples: B, seed });
  if (!v["no-extrapolation"]) fit.extrapolation = leaveLargestOut(plan.runs, opts, fit);
  fit.warnings = fitWarnings(fit);
  const paths = await writeFit(fit, table, v.out);
  if (v.json) {
    console.log(JSON.stringify(fitSummary(fit), null, 2));
    if (fit.warnings.length) console.error(warningsText(fit));
  } else console.log(`${fitText(fit)}\nwrote ${paths.json} and ${paths.csv}`);
}

async function isoflopMain(
  runs: Run[],
  dir: string,
  o: { B: number; seed: number; json: boolean; notes: string[]; ciWidth?: number },
) {
  const fit = fitIsoflop(runs, { bootstrap: o.B, seed: o.seed, ciWidth: o.ciWidth });
  fit.notes.push(...o.notes);
  if (!runs.some((r) => r.C !== undefined)) fit.notes.push("compute C = 6·N·D (no --c-col given)");
  const summary = isoflopSummary(fit);
  await writeAtomic(`${dir}/isoflop.json`, JSON.stringify(summary, null, 2) + "\n");
  await writeAtomic(
    `${dir}/isoflop.csv`,
    "C,nStar,dStar,loss,points,lnNStarSE\n" +
      fit.optima.map((p) => [p.C, p.nStar, p.dStar, p.loss, p.points, p.lnNStarSE ?? ""].join(",")).join(
        "\n",
      ) + "\n",
  );
  const chart = await writeChart(dir, "isoflop", isoflopSpec(fit));
  if (o.json) {
    console.log(JSON.stringify(summary, null, 2));
    if (fit.warnings.length) console.error(fit.warnings.map((w) => `warning: ${w}`).join("\n"));
  } else console.log(`${isoflopText(fit)}\nwrote ${dir}/isoflop.json, ${dir}/isoflop.csv and ${chart.svg}`);
}

if (import.meta.main) await main(Deno.args);
