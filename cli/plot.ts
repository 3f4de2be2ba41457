/**
 * `deno task plot EXPERIMENT [--form quartet|chinchilla|kumar] [--baseline LABEL] [--bootstrap B]
 * [--profile hardware.json] [--out DIR]`: fits the experiment's runs and writes every chart as SVG, PNG,
 * HTML and Vega-Lite spec under results/<experiment>/charts/. EXPERIMENT is a name under results/ or a
 * results directory. Bad input: one line on stderr, exit 2.
 * @module
 */
import { parseTaskArgs } from "../lib/cli/args.ts";
import { bopsModel, loadProfile, profileModel } from "../lib/fit/cost.ts";
import { FitInputError } from "../lib/fit/data.ts";
import type { FormName } from "../lib/fit/types.ts";
import { plotExperiment } from "../lib/charts/suite.ts";
import { ensureWritableDir } from "../lib/results/writable.ts";
import { exitWithParent } from "../lib/cli/parent.ts";

function fail(msg: string): never {
  console.error(`plot: ${msg}`);
  Deno.exit(2);
}

async function exists(p: string) {
  try {
    await Deno.stat(p);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) {
      fail(`${p} is outside the folders this task may read (the project); move the results under results/`);
    }
    return false;
  }
}

async function main(args: string[]) {
  let parsed;
  try {
    parsed = parseTaskArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        form: { type: "string", default: "quartet" },
        baseline: { type: "string", default: "bf16" },
        bootstrap: { type: "string", default: "100" },
        profile: { type: "string" },
        "ref-bits": { type: "string", default: "8" },
        out: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    fail((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(
      "usage: deno task plot EXPERIMENT [--form quartet|chinchilla|kumar] [--baseline LABEL] [--bootstrap B]\n" +
        "  [--profile hardware.json | --ref-bits 8] [--out DIR]",
    );
    return;
  }
  if (parsed.positionals.length !== 1) {
    fail("expected one EXPERIMENT (a name under results/ or a results directory)");
  }
  const form = v.form as FormName;
  if (!["chinchilla", "quartet", "kumar"].includes(form)) {
    fail(`unknown --form '${v.form}' (chinchilla|quartet|kumar)`);
  }
  const B = Number(v.bootstrap), refBits = Number(v["ref-bits"]);
  if (!Number.isInteger(B) || B < 0) fail(`--bootstrap must be a non-negative integer, got '${v.bootstrap}'`);
  if (!(refBits > 0)) fail(`--ref-bits must be positive, got '${v["ref-bits"]}'`);
  const name = parsed.positionals[0];
  const dir = (await exists(`${name}/runs.csv`)) ? name : `results/${name}`;
  if (!(await exists(`${dir}/runs.csv`))) {
    fail(`no results for '${name}': neither ${name}/runs.csv nor results/${name}/runs.csv exists`);
  }
  // The chart directory is created and proven writable before the fit, not after it.
  try {
    await ensureWritableDir(v.out ?? `${dir}/charts`, "chart directory", "--out");
  } catch (e) {
    fail((e as Error).message);
  }
  let cost = bopsModel(v.baseline, refBits);
  if (v.profile) {
    try {
      cost = profileModel(await loadProfile(v.profile), v.baseline);
    } catch (e) {
      fail(`--profile: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  try {
    const r = await plotExperiment(dir, { form, baseline: v.baseline, bootstrap: B, cost, out: v.out });
    for (const [chart, files] of Object.entries(r.files)) {
      console.log(`${chart}: ${files.png} (+ .svg .html .vl.json)`);
    }
    console.log(`fit: ${r.dir}/fit.json  frontier: ${r.dir}/frontier.json`);
  } catch (e) {
    if (e instanceof FitInputError) fail(e.message);
    throw e;
  }
}

if (import.meta.main) {
  exitWithParent("plot");
  await main(Deno.args);
}
