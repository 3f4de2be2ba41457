/**
 * `deno task sweep SPEC [--dry-run] [--shard i/n] [--only FILTER] [--force RUN]… [--results DIR]`
 *
 * Runs (or, with --dry-run, lists with estimated times) the runs of an experiment spec.
 * Bad input prints one line (or zod's list for a spec) and exits 2 before any work; Ctrl-C stops
 * after the current step (exit 130) and the next invocation resumes from the last checkpoints.
 * @module
 */
import { parseArgs } from "node:util";
import { InputError } from "../lib/spec/errors.ts";
import { loadSpec } from "../lib/spec/load.ts";
import { parseOnly } from "../lib/sweep/filter.ts";
import { parseShard } from "../lib/sweep/shard.ts";
import { expandExperiment } from "../lib/sweep/expand.ts";
import { dryRunReport } from "../lib/sweep/dryrun.ts";
import { ResultsDir } from "../lib/results/store.ts";
import { formatDuration } from "../lib/sweep/format.ts";
import { dataTrainTokens } from "../lib/sweep/data.ts";

const usage = "usage: deno task sweep SPEC [--dry-run [--no-probe] [--probe-steps K]] [--shard i/n] " +
  "[--only FILTER] [--force RUN]… [--results DIR] [--attention NAME[,NAME…]]";

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: Deno.args,
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
        attention: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new InputError(`${(e as Error).message.split("\n")[0]}\n${usage}`);
  }
  const { values: v, positionals } = args;
  if (v.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1) throw new InputError(usage);
  const shard = v.shard !== undefined ? parseShard(v.shard) : undefined;
  const only = v.only !== undefined ? parseOnly(v.only) : undefined;
  const probeSteps = Number(v["probe-steps"]);
  if (!Number.isInteger(probeSteps) || probeSteps < 1) {
    throw new InputError(`--probe-steps: expected a positive integer`);
  }
  const { spec } = await loadSpec(positionals[0]);
  // --attention replaces the spec's attention list (names are checked in the expansion)
  if (v.attention !== undefined) spec.attention = v.attention.split(",").map((s) => s.trim());
  // Every input check above and in expansion runs before the engine (and the GPU) is even loaded.
  const expansion = await expandExperiment(spec);
  const { ownedRuns, runSweep } = await import("../lib/sweep/runner.ts");

  if (v["dry-run"]) {
    const { probeThroughput } = await import("../lib/sweep/probe.ts");
    const owned = ownedRuns(expansion.runs, shard, only);
    const dir = ResultsDir.of(v.results, spec.name);
    const status = new Map<string, string>();
    for (const r of owned) {
      const rec = await dir.readRecord(r.id);
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
        `${s.failed} failed in ${formatDuration(s.wallSeconds)}; results in ${s.dir}`,
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

try {
  Deno.exit(await main());
} catch (e) {
  if (e instanceof InputError) {
    console.error(e.message);
    Deno.exit(2);
  }
  throw e;
}
