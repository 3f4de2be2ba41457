/**
 * `deno task fit INPUT --form chinchilla|quartet|kumar [...]`: fits a scaling law to an experiment's
 * results directory (its runs.csv) or any CSV, writes fit.json and fit.csv next to it, prints a table
 * (or the JSON summary with --json). Bad input: one line on stderr, exit 2, before any fitting.
 * @module
 */
import { parseArgs } from "node:util";
import { bootstrapCI } from "../lib/fit/bootstrap.ts";
import { DEFAULT_COLUMNS, FitInputError, readTable, toRuns } from "../lib/fit/data.ts";
import { leaveLargestOut } from "../lib/fit/extrapolate.ts";
import { executeFit, planFit } from "../lib/fit/fit.ts";
import type { FormName } from "../lib/fit/forms.ts";
import { fitSummary, fitText, warningsText, writeFit } from "../lib/fit/report.ts";
import { fitWarnings } from "../lib/fit/warnings.ts";

const USAGE =
  `usage: deno task fit INPUT --form chinchilla|quartet|kumar [--n-col NAME --d-col NAME --loss-col NAME
  --fwd-col NAME --bwd-col NAME --bits-col NAME ...] [--baseline LABEL] [--delta X] [--bootstrap B]
  [--seed S] [--no-extrapolation] [--unconstrained] [--json]

Exponents (alpha, beta, gamma) are kept positive unless --unconstrained. Warnings about a degenerate or
ill-determined fit go to stderr (and into fit.json / --json as "warnings").`;

function fail(msg: string): never {
  console.error(`fit: ${msg}`);
  Deno.exit(2);
}

async function main(args: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        form: { type: "string", default: "quartet" },
        "n-col": { type: "string", default: DEFAULT_COLUMNS.n },
        "d-col": { type: "string", default: DEFAULT_COLUMNS.d },
        "loss-col": { type: "string", default: DEFAULT_COLUMNS.loss },
        "fwd-col": { type: "string", default: DEFAULT_COLUMNS.fwd },
        "bwd-col": { type: "string", default: DEFAULT_COLUMNS.bwd },
        "bits-col": { type: "string", multiple: true },
        baseline: { type: "string", default: "bf16" },
        delta: { type: "string" },
        bootstrap: { type: "string", default: "0" },
        seed: { type: "string", default: "1" },
        "no-extrapolation": { type: "boolean", default: false },
        unconstrained: { type: "boolean", default: false },
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
  const form = v.form as FormName;
  if (!["chinchilla", "quartet", "kumar"].includes(form)) {
    fail(`unknown --form '${v.form}' (chinchilla|quartet|kumar)`);
  }
  const delta = v.delta === undefined ? undefined : Number(v.delta);
  if (delta !== undefined && !(delta > 0)) fail(`--delta must be a positive number, got '${v.delta}'`);
  const B = Number(v.bootstrap), seed = Number(v.seed);
  if (!Number.isInteger(B) || B < 0) fail(`--bootstrap must be a non-negative integer, got '${v.bootstrap}'`);
  if (!Number.isInteger(seed)) fail(`--seed must be an integer, got '${v.seed}'`);
  const bits = v["bits-col"]?.flatMap((s) => s.split(",")).filter(Boolean) ?? DEFAULT_COLUMNS.bits;

  let plan, table;
  try {
    table = await readTable(parsed.positionals[0]);
    const cols = {
      ...DEFAULT_COLUMNS,
      n: v["n-col"]!,
      d: v["d-col"]!,
      loss: v["loss-col"]!,
      fwd: v["fwd-col"]!,
      bwd: v["bwd-col"]!,
      bits,
    };
    const runs = toRuns(table, form, cols);
    plan = planFit(runs, {
      form,
      baseline: v.baseline,
      delta,
      bitsColumns: bits,
      unconstrained: v.unconstrained,
    });
  } catch (e) {
    if (e instanceof FitInputError) fail(e.message);
    throw e;
  }

  const fit = executeFit(plan);
  if (B > 0) fit.ci = bootstrapCI(plan, fit, { samples: B, seed });
  if (!v["no-extrapolation"]) {
    fit.extrapolation = leaveLargestOut(plan.runs, {
      form,
      baseline: plan.baseline,
      delta,
      bitsColumns: bits,
      unconstrained: v.unconstrained,
    });
  }
  fit.warnings = fitWarnings(fit);
  const paths = await writeFit(fit, table);
  if (v.json) {
    console.log(JSON.stringify(fitSummary(fit), null, 2));
    if (fit.warnings.length) console.error(warningsText(fit));
  } else console.log(`${fitText(fit)}\nwrote ${paths.json} and ${paths.csv}`);
}

if (import.meta.main) await main(Deno.args);
