/**
 * `deno task sweep SPEC [--dry-run] [--shard i/n] [--only FILTER] [--force RUN]… [--results DIR]`
 *
 * Runs (or, with --dry-run, lists with estimated times) the runs of an experiment spec.
 * Bad input prints one line (or zod's list for a spec) and exits 2 before any work; Ctrl-C stops
 * after the current step (exit 130) and the next invocation resumes from the last checkpoints.
 * @module
 */
import { InputError, specError } from "../lib/spec/errors.ts";
import { runTask } from "../lib/cli/task.ts";
import { joinNegativeValues, parseTaskArgs } from "../lib/cli/args.ts";
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
  "[--only FILTER] [--force RUN]… [--results DIR] [--term-grace S] [--attention NAME[,NAME…]] [--pack K]\n" +
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
  const { values: v, positionals } = parseTaskArgs({
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
      attention: { type: "string" },
      pack: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (v.help) {
    console.log(usage);
    return 0;
  }
  if (positionals[0] === "status") {
    if (positionals.length !== 2) throw new InputError(`status: expected one experiment name (see --help)`);
    const { statusCommand } = await import("../lib/sweep/slurm_cli.ts");
    return await statusCommand(v.results, positionals[1]);
  }
  if (positionals.length !== 1) throw new InputError(`expected one SPEC file (see --help)`);
  const given = slurmFlags.filter((f) => v[f] !== undefined);
  if (!v.slurm && given.length) throw new InputError(`--${given[0]}: only with --slurm (see --help)`);
  if (v.slurm && (v.shard || v.only || v.force.length)) {
    throw new InputError(`--slurm: the array makes its own shards; drop --shard, --only and --force`);
  }
  // --pack K: at most K runs of one shape and scheme train together (lib/sweep/packing.ts); 1: none
  const pack = v.pack === undefined ? undefined : Number(v.pack);
  if (pack !== undefined && (!/^\d+$/.test(v.pack!) || pack < 1 || pack > 64)) {
    throw new InputError(`--pack: expected a whole number of runs in 1..64, got "${v.pack}"`);
  }
  if (v.slurm && pack !== undefined) {
    throw new InputError(`--pack: not with --slurm (its tasks pack up to 8 runs)`);
  }
  const termGrace = Number(v["term-grace"]);
  if (!/^\d+$/.test(v["term-grace"]) || termGrace < 1) {
    throw new InputError(`--term-grace: expected whole seconds ≥ 1, got "${v["term-grace"]}"`);
  }
  const shard = v.shard !== undefined ? parseShard(v.shard) : undefined;
  const only = v.only !== undefined ? parseOnly(v.only) : undefined;
  const probeSteps = Number(v["probe-steps"]);
  if (!Number.isInteger(probeSteps) || probeSteps < 1 || probeSteps > 1000) {
    throw new InputError(`--probe-steps: expected a positive integer ≤ 1000 (got "${v["probe-steps"]}")`);
  }
  // The results root is checked first: one line saying what to do, never NotCapable mid-run.
  // (--slurm checks sbatch before it writes anything, and its results root must lie under results/.)
  if (v["dry-run"] || v.slurm) await ensureReadableDir(v.results, "results directory", "--results");
  else await ensureWritableDir(v.results, "results directory", "--results");
  const { spec } = await loadSpec(positionals[0]);
  // --attention replaces the spec's attention list (names are checked in the expansion)
  if (v.attention !== undefined) spec.attention = v.attention.split(",").map((s) => s.trim());
  if (v["dry-run"] && gridProblem(spec)) {
    // Too many runs to expand: the dry run summarizes the grid; the sweep itself refuses it.
    console.log(gridReport(spec));
    return 0;
  }
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
        pack,
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
      pack,
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

exitWithParent("sweep");
await runTask("sweep", main);
