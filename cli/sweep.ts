/**
 * `deno task sweep SPEC [--dry-run] [--shard i/n] [--only FILTER] [--force RUN]… [--results DIR]`
 *
 * Runs (or, with --dry-run, lists with estimated times) the runs of an experiment spec.
 * Bad input prints one line (or zod's list for a spec) and exits 2 before any work; Ctrl-C stops
 * after the current step (exit 130) and the next invocation resumes from the last checkpoints.
 * @module
 */
import { parseArgs } from "node:util";
import { InputError, specError, taskMessage } from "../lib/spec/errors.ts";
import { joinNegativeValues } from "../lib/cli/args.ts";
import { ensureReadableDir, ensureWritableDir } from "../lib/results/writable.ts";
import { exitWithParent } from "../lib/cli/parent.ts";
import { loadSpec } from "../lib/spec/load.ts";
import { parseOnly } from "../lib/sweep/filter.ts";
import { parseShard } from "../lib/sweep/shard.ts";
import { expandExperiment, gridProblem } from "../lib/sweep/expand.ts";
import { dryRunReport, gridReport } from "../lib/sweep/dryrun.ts";
import { ResultsDir } from "../lib/results/store.ts";
import { formatDuration } from "../lib/sweep/format.ts";
import { dataTrainTokens } from "../lib/sweep/data.ts";

const usage = "usage: deno task sweep SPEC [--dry-run [--no-probe] [--probe-steps K]] [--shard i/n] " +
  "[--only FILTER] [--force RUN]… [--results DIR]";

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: joinNegativeValues(Deno.args, { "probe-steps": { type: "string" }, shard: { type: "string" } }),
      allowPositionals: true,
      strict: true,
      options: {
        "dry-run": { type: "boolean", default: false },
        "no-probe": { type: "boolean", default: false },
        "probe-steps": { type: "string", default: "4" },
        shard: { type: "string" },
        only: { type: "string" },
        force: { type: "string", multiple: true, default: [] },
        results: { type: "string", default: "results" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new InputError(
      `${(e as Error).message.split("\n")[0].replace(/\s*To specify .*$/, "")} (see --help)`,
    );
  }
  const { values: v, positionals } = args;
  if (v.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1) throw new InputError(`expected one SPEC file (see --help)`);
  const shard = v.shard !== undefined ? parseShard(v.shard) : undefined;
  const only = v.only !== undefined ? parseOnly(v.only) : undefined;
  const probeSteps = Number(v["probe-steps"]);
  if (!Number.isInteger(probeSteps) || probeSteps < 1 || probeSteps > 1000) {
    throw new InputError(`--probe-steps: expected a positive integer ≤ 1000 (got "${v["probe-steps"]}")`);
  }
  // The results root is checked first: one line saying what to do, never NotCapable mid-run.
  if (v["dry-run"]) await ensureReadableDir(v.results, "results directory", "--results");
  else await ensureWritableDir(v.results, "results directory", "--results");
  const { spec } = await loadSpec(positionals[0]);
  if (v["dry-run"] && gridProblem(spec)) {
    // Too many runs to expand: the dry run summarizes the grid; the sweep itself refuses it.
    console.log(gridReport(spec));
    return 0;
  }
  // Every input check above and in expansion runs before the engine (and the GPU) is even loaded.
  const expansion = await expandExperiment(spec).catch((e) => {
    throw e instanceof InputError && e.problems.length ? specError(e.problems, positionals[0]) : e;
  });
  const { ownedRuns, runSweep } = await import("../lib/sweep/runner.ts");

  if (v["dry-run"]) {
    const { probeThroughput } = await import("../lib/sweep/probe.ts");
    const owned = ownedRuns(expansion.runs, shard, only);
    const dir = ResultsDir.of(v.results, spec.name);
    const status = new Map<string, string>();
    // One directory listing, then only the records that exist (a 10^5-run plan stays quick).
    const present = new Set<string>();
    try {
      for await (const e of Deno.readDir(`${dir.dir}/runs`)) if (e.isDirectory) present.add(e.name);
    } catch { /* no runs yet */ }
    for (const r of owned) {
      const rec = present.has(r.id) ? await dir.readRecord(r.id) : undefined;
      if (rec) status.set(r.id, String(rec.row.status));
    }
    const todo = owned.filter((r) => !["finished", "diverged"].includes(status.get(r.id) ?? ""));
    const throughput = v["no-probe"]
      ? new Map<string, number>()
      : await probeThroughput(todo, probeSteps, (k, t) => {
        console.error(`probe ${k}: ${Math.round(t)} tok/s`);
      });
    console.log(
      dryRunReport({
        expansion,
        owned,
        status,
        throughput,
        data: spec.data,
        dataTokens: await dataTrainTokens(spec.data),
      }),
    );
    return 0;
  }

  const ctl = new AbortController();
  const stop = () => {
    if (ctl.signal.aborted) Deno.exit(130);
    console.error("\nstopping after the current step (again to quit now)…");
    ctl.abort(new DOMException("interrupted", "AbortError"));
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    const s = await runSweep({
      spec,
      resultsRoot: v.results,
      shard,
      only,
      force: v.force,
      signal: ctl.signal,
    });
    console.log(
      `${spec.name}: ${s.planned} runs (${s.skipped} already done): ${s.finished} finished, ${s.diverged} diverged, ` +
        `${s.failed} failed in ${formatDuration(s.wallSeconds)}; results in ${s.dir}` +
        (s.busy ? `; ${s.busy} skipped: another sweep is training them` : ""),
    );
    return s.failed ? 1 : 0;
  } catch (e) {
    if (ctl.signal.aborted) {
      console.error("interrupted; run the same command to resume");
      return 130;
    }
    throw e;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
}

exitWithParent("sweep");
try {
  Deno.exit(await main());
} catch (e) {
  if (e instanceof InputError) {
    console.error(taskMessage("sweep", e.message));
    Deno.exit(2);
  }
  throw e;
}
