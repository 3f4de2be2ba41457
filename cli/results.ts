/**
 * `deno task results EXPERIMENT [--format table|csv|json] [--results DIR]` prints an experiment's runs
 * (without EXPERIMENT: lists the experiments);
 * `deno task results merge EXPERIMENT` rebuilds runs.csv (and environment.json, spec.json) from the
 * per-run records, e.g. after several shards shared the directory.
 * EXPERIMENT is a name under the results root or a path to a results directory.
 * @module
 */
import { parseTaskArgs } from "../lib/cli/args.ts";
import { InputError } from "../lib/spec/errors.ts";
import { runTask } from "../lib/cli/task.ts";
import { ensureReadableDir } from "../lib/results/writable.ts";
import { closestExperiments, experimentNames } from "../lib/results/experiments.ts";
import { currentRecords, mergeResults, sortedRows } from "../lib/results/merge.ts";
import { ResultsDir } from "../lib/results/store.ts";
import { type Format, FORMATS, renderRows } from "../lib/results/table.ts";

const usage = "usage: deno task results [merge] EXPERIMENT [--format table|csv|json] [--results DIR]";

async function experimentDir(root: string, name: string): Promise<ResultsDir> {
  const path = name.includes("/") ? name : `${root}/${name}`;
  await ensureReadableDir(path, "results directory", "--results");
  try {
    if ((await Deno.stat(path)).isDirectory) return new ResultsDir(path.replace(/\/+$/, ""));
  } catch { /* not there */ }
  throw new InputError(
    `no results for experiment "${name}" in ${root}/` + await closestExperiments(root, name),
  );
}

async function main(): Promise<number> {
  const { values: v, positionals } = parseTaskArgs({
    args: Deno.args,
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: "string", default: "table" },
      results: { type: "string", default: "results" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (v.help) {
    console.log(usage);
    return 0;
  }
  await ensureReadableDir(v.results, "results root", "--results");
  const merge = positionals[0] === "merge";
  const rest = merge ? positionals.slice(1) : positionals;
  if (rest.length === 0 && !merge) {
    // No experiment named: list what the results root holds.
    const names = await experimentNames(v.results);
    if (!names.length) throw new InputError(`no experiments in ${v.results}/ yet (see --help)`);
    for (const n of names.sort()) {
      console.log(`${n}  ${(await currentRecords(new ResultsDir(`${v.results}/${n}`))).length} runs`);
    }
    return 0;
  }
  if (rest.length !== 1) throw new InputError(`expected one EXPERIMENT (see --help)`);
  if (!(FORMATS as readonly string[]).includes(v.format)) {
    throw new InputError(`--format: expected one of ${FORMATS.join(", ")}, got "${v.format}"`);
  }
  const dir = await experimentDir(v.results, rest[0]);
  if (merge) {
    const { rows, shards } = await mergeResults(dir);
    console.log(
      `${dir.runsCsv}: ${rows.length} runs` + (shards.length ? ` (from shards ${shards.join(", ")})` : ""),
    );
    return 0;
  }
  const rows = sortedRows(await currentRecords(dir));
  console.log(renderRows(rows, v.format as Format));
  return 0;
}

await runTask("results", main);
