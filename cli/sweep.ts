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
  "[--only FILTER] [--force RUN]… [--results DIR] [--term-grace S]\n" +
  "       deno task sweep SPEC --slurm [--tasks N] [--partition P] [--time HH:MM:SS] [--cpus-per-task C] " +
  '[--gpus-per-task G] [--account A] [--extra "SBATCH OPTIONS"] [--signal-before S] [--fit-form F] ' +
  "[--baseline B] [--dry-run] [--results DIR]\n" +
  "       deno task sweep status EXP [--results DIR]";
// Flags of --slurm (lib/sweep/slurm.ts validates them).
const slurmFlags = [
  "tasks",
  "partition",
  "time",
  "cpus-per-task",
  "gpus-per-task",
  "account",
  "extra",
  "signal-before",
  "fit-form",
  "baseline",
] as const;

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
        "term-grace": { type: "string", default: "60" },
        slurm: { type: "boolean", default: false },
        tasks: { type: "string" },
        partition: { type: "string" },
        time: { type: "string" },
        "cpus-per-task": { type: "string" },
        "gpus-per-task": { type: "string" },
        account: { type: "string" },
        extra: { type: "string" },
        "signal-before": { type: "string" },
        "fit-form": { type: "string" },
        baseline: { type: "string" },
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
  if (positionals[0] === "status") {
    if (positionals.length !== 2) throw new InputError(`status: expected one experiment\n${usage}`);
    const { statusCommand } = await import("../lib/sweep/slurm_cli.ts");
    return await statusCommand(v.results, positionals[1]);
  }
  if (positionals.length !== 1) throw new InputError(usage);
  const given = slurmFlags.filter((f) => v[f] !== undefined);
  if (!v.slurm && given.length) throw new InputError(`--${given[0]}: only with --slurm\n${usage}`);
  if (v.slurm && (v.shard || v.only || v.force.length)) {
    throw new InputError(`--slurm: the array makes its own shards; drop --shard, --only and --force`);
  }
  const termGrace = Number(v["term-grace"]);
  if (!/^\d+$/.test(v["term-grace"]) || termGrace < 1) {
    throw new InputError(`--term-grace: expected whole seconds ≥ 1, got "${v["term-grace"]}"`);
  }
  const shard = v.shard !== undefined ? parseShard(v.shard) : undefined;
  const only = v.only !== undefined ? parseOnly(v.only) : undefined;
  const probeSteps = Number(v["probe-steps"]);
  if (!Number.isInteger(probeSteps) || probeSteps < 1) {
    throw new InputError(`--probe-steps: expected a positive integer`);
  }
  const { spec } = await loadSpec(positionals[0]);
  if (v.slurm) {
    const { slurmCommand } = await import("../lib/sweep/slurm_cli.ts");
    const flags = Object.fromEntries(slurmFlags.map((f) => [f, v[f]]));
    return await slurmCommand({
      specPath: positionals[0],
      spec,
      resultsRoot: v.results,
      flags,
      dryRun: v["dry-run"],
    });
  }
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
  // SIGTERM (Slurm's time-limit warning, preemption, scancel): train on to the next checkpoint, exit 143.
  const termCtl = new AbortController();
  const term = () => {
    if (termCtl.signal.aborted) return; // Slurm may send it to the batch shell and to us
    console.error(`\nSIGTERM: stopping at the next checkpoint (at most ${termGrace} s)…`);
    termCtl.abort(new DOMException("terminated", "AbortError"));
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", term);
  try {
    const s = await runSweep({
      spec,
      resultsRoot: v.results,
      shard,
      only,
      force: v.force,
      signal: ctl.signal,
      stopAtCheckpoint: termCtl.signal,
      stopGraceSeconds: termGrace,
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
    if (termCtl.signal.aborted) {
      console.error("stopped at a checkpoint; run the same command to resume");
      return 143;
    }
    throw e;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", term);
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
