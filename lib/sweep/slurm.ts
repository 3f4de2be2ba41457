/**
 * A sweep as Slurm batch scripts: a job array whose task i trains shard i/N (the FLOP-balanced,
 * deterministic partition of `--shard`) into one results directory on shared storage, and a follow-up job
 * that merges, fits and plots once every task has ended (`--dependency=afterany`, given at submission).
 *
 * The array tasks ask for SIGTERM before their time limit (`--signal=B:TERM@S`) and are requeueable: the
 * batch shell forwards the signal to the sweep, which trains on to its next checkpoint and exits 143; the
 * script then requeues its own task (only while the job is still RUNNING, i.e. on the time-limit warning:
 * after `scancel` or `scontrol requeue` the job is COMPLETING and Slurm decides). A requeued task resumes
 * from its checkpoints; finished runs are skipped.
 *
 * Pure text generation; writing and submitting is slurm_submit.ts.
 * @module
 */
import { InputError } from "../spec/errors.ts";

/** The sbatch settings a user chooses on the command line. */
export interface SlurmOptions {
  /** Array tasks (shards). */
  tasks: number;
  partition?: string;
  /** Time limit per array task, in a Slurm time format (e.g. 04:00:00, 2-00:00:00, 90). */
  time?: string;
  cpusPerTask: number;
  gpusPerTask?: number;
  account?: string;
  /** More sbatch options, verbatim (one `#SBATCH` line in both scripts). */
  extra?: string;
  /** Seconds before the time limit at which a task gets SIGTERM (`--signal=B:TERM@S`). */
  signalBefore: number;
  /** Law form the follow-up job fits (`deno task fit --form`). */
  fitForm: string;
  /** Baseline scheme label of that fit (`--baseline`). */
  baseline: string;
}

/** Where things are: every path absolute, as the nodes see them on shared storage. */
export interface SlurmPaths {
  /** The project checkout (its `./fp4lab`, `tools/bin/deno`). */
  project: string;
  /** The spec file. */
  spec: string;
  /** The results root (the sweep's `--results`). */
  resultsRoot: string;
  /** Experiment name: results go to `<resultsRoot>/<experiment>`. */
  experiment: string;
  /** `<resultsRoot>/<experiment>/slurm`: scripts, marker, logs. */
  slurmDir: string;
}

/** Everything a script needs. */
export interface SlurmPlan {
  paths: SlurmPaths;
  options: SlurmOptions;
  /** The Deno version the project pins (tools/deno/package.json). */
  denoVersion: string;
  /** Random token the submitter writes into the marker file; tasks refuse to run unless they read it. */
  markerToken: string;
}

/** The marker file tasks check to prove they see the submitter's results directory. */
export const markerPath = (p: SlurmPaths): string => `${p.slurmDir}/shared-storage.marker`;
/** Log directory of the scripts (`sweep-<array>_<task>.out`, `merge-<job>.out`). */
export const logDir = (p: SlurmPaths): string => `${p.slurmDir}/logs`;

/** Quotes a string for bash (single quotes). */
export function shq(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'"'"'`)}'`;
}

/** A task requeues itself at most this many times (a time limit too short to reach a checkpoint would loop). */
export const MAX_REQUEUES = 50;

const SLURM_TIME = /^(\d+-\d{1,2}(:\d{2}){0,2}|\d+(:\d{2}){0,2})$/;
const NAME = /^[A-Za-z0-9_.,:+=@-]+$/;

/** Raw `--slurm` flag values as parsed by the CLI. */
export interface SlurmFlags {
  tasks?: string;
  partition?: string;
  time?: string;
  "cpus-per-task"?: string;
  "gpus-per-task"?: string;
  account?: string;
  extra?: string;
  "signal-before"?: string;
  "fit-form"?: string;
  baseline?: string;
}

/** Seconds of a Slurm time limit (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS). */
export function slurmTimeSeconds(t: string): number {
  const [d, rest] = t.includes("-") ? t.split("-") : [undefined, t];
  const p = rest.split(":").map(Number);
  if (d !== undefined) return Number(d) * 86400 + p[0] * 3600 + (p[1] ?? 0) * 60 + (p[2] ?? 0);
  return p.length === 3 ? p[0] * 3600 + p[1] * 60 + p[2] : p[0] * 60 + (p[1] ?? 0);
}

function positiveInt(flag: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < min) {
    throw new InputError(`--${flag}: expected an integer ≥ ${min}, got "${text}"`);
  }
  return n;
}

/** Validates the `--slurm` flags (InputError naming the flag otherwise); `runs` bounds --tasks. */
export function parseSlurmFlags(f: SlurmFlags, runs: number): SlurmOptions {
  const tasks = positiveInt("tasks", f.tasks, Math.min(runs, 4));
  if (tasks > runs) throw new InputError(`--tasks: ${tasks} tasks for ${runs} runs; use at most ${runs}`);
  if (f.time !== undefined && !SLURM_TIME.test(f.time)) {
    throw new InputError(`--time: expected a Slurm time limit like 04:00:00 or 1-12:00:00, got "${f.time}"`);
  }
  for (const k of ["partition", "account", "baseline"] as const) {
    if (f[k] !== undefined && !NAME.test(f[k]!)) throw new InputError(`--${k}: not a plain name: "${f[k]}"`);
  }
  if (f.extra !== undefined && (/[\n\r]/.test(f.extra) || !/^\s*-/.test(f.extra))) {
    throw new InputError(`--extra: expected sbatch options on one line, e.g. "--qos=high --mem=8G"`);
  }
  const forms = ["quartet", "chinchilla", "kumar"];
  if (f["fit-form"] !== undefined && !forms.includes(f["fit-form"])) {
    throw new InputError(`--fit-form: expected one of ${forms.join(", ")}, got "${f["fit-form"]}"`);
  }
  const signalBefore = positiveInt("signal-before", f["signal-before"], 120, 30);
  if (f.time !== undefined && slurmTimeSeconds(f.time) < signalBefore + 60) {
    throw new InputError(
      `--time: ${f.time} leaves no minute of work before the SIGTERM ${signalBefore} s before the limit ` +
        `(--signal-before)`,
    );
  }
  return {
    tasks,
    partition: f.partition,
    time: f.time,
    cpusPerTask: positiveInt("cpus-per-task", f["cpus-per-task"], 2),
    gpusPerTask: f["gpus-per-task"] === undefined
      ? undefined
      : positiveInt("gpus-per-task", f["gpus-per-task"], 0),
    account: f.account,
    extra: f.extra?.trim() || undefined,
    signalBefore,
    fitForm: f["fit-form"] ?? "quartet",
    baseline: f.baseline ?? "bf16",
  };
}

/** The `#SBATCH` lines both scripts share. */
function commonDirectives(o: SlurmOptions): string[] {
  return [
    o.partition && `#SBATCH --partition=${o.partition}`,
    o.account && `#SBATCH --account=${o.account}`,
    o.time && `#SBATCH --time=${o.time}`,
  ].filter((l): l is string => !!l);
}

/** Shell lines every script runs first: the shared-storage marker, the project's pinned Deno. */
function preamble(plan: SlurmPlan): string {
  const p = plan.paths;
  return `set -uo pipefail
project=${shq(p.project)}
results=${shq(p.resultsRoot)}
marker=${shq(markerPath(p))}
say() { echo "fp4lab[$(hostname -s) $(date -u +%H:%M:%S)]: $*"; }

# Shared storage: the submitter wrote a random token into the marker; a node that cannot read it does not
# see the results directory (tasks would write results no one merges).
if [ "$(cat "$marker" 2>/dev/null)" != ${shq(plan.markerToken)} ]; then
  say "$marker is missing or stale on $(hostname): the results directory is not on storage shared with" \\
    "the submitting machine; put the project and --results on a shared filesystem" >&2
  exit 2
fi
cd "$project" || exit 2

# The project's pinned Deno (tools/bin/deno in the shared checkout; ./fp4lab installs it there).
export PATH="$project/tools/bin:$PATH"
want=${shq(plan.denoVersion)}
have=$(deno --version 2>/dev/null | sed -n 's/^deno \\([^ ]*\\).*/\\1/p' | head -1)
if [ "$have" != "$want" ]; then
  say "this node runs deno \${have:-(none)} but the project pins $want: run ./fp4lab once on the submitting" \\
    "machine so $project/tools/bin/deno exists on the shared checkout" >&2
  exit 2
fi
# The node's WebGPU adapter (a GPU's Vulkan driver, or Mesa's software one): ./fp4lab checks for it.
export DENO_WEBGPU_BACKEND="\${DENO_WEBGPU_BACKEND:-vulkan}" NO_COLOR=1
`;
}

/** The job array script (`results/<exp>/slurm/sweep.sbatch`). */
export function sweepScript(plan: SlurmPlan): string {
  const { paths: p, options: o } = plan;
  const n = o.tasks;
  const grace = Math.max(10, o.signalBefore - 30);
  const directives = [
    `#SBATCH --job-name=${shq(`fp4lab-${p.experiment}`)}`,
    `#SBATCH --array=1-${n}`,
    `#SBATCH --cpus-per-task=${o.cpusPerTask}`,
    ...(o.gpusPerTask ? [`#SBATCH --gpus-per-task=${o.gpusPerTask}`] : []),
    ...commonDirectives(o),
    `#SBATCH --requeue`,
    `#SBATCH --signal=B:TERM@${o.signalBefore}`,
    `#SBATCH --open-mode=append`,
    `#SBATCH --output=${logDir(p)}/sweep-%A_%a.out`,
    ...(o.extra ? [`#SBATCH ${o.extra}`] : []),
  ];
  return `#!/bin/bash
# fp4lab: the sweep of "${p.experiment}" as a Slurm job array, written by \`deno task sweep SPEC --slurm\`.
# Task i of ${n} trains shard i/${n} (FLOP-balanced, deterministic) into ${p.resultsRoot}/${p.experiment}.
# On SIGTERM (${o.signalBefore} s before the time limit) the sweep trains on to its next checkpoint (at most
# ${grace} s), exits 143, and the task requeues itself; the next attempt resumes from the checkpoints.
${directives.join("\n")}
${preamble(plan)}
spec=${shq(p.spec)}
shard="\${SLURM_ARRAY_TASK_ID:?submit this script with sbatch}/${n}"
say "task $shard of ${p.experiment}, job \${SLURM_ARRAY_JOB_ID:-?}_\${SLURM_ARRAY_TASK_ID}, attempt $((\${SLURM_RESTART_COUNT:-0} + 1))"

./fp4lab task sweep "$spec" --shard "$shard" --results "$results" --term-grace ${grace} &
pid=$!
trap 'say "SIGTERM: stopping at the next checkpoint"; kill -TERM "$pid" 2>/dev/null' TERM
while :; do
  wait "$pid"
  rc=$?
  kill -0 "$pid" 2>/dev/null || break
done
if [ "$rc" = 143 ]; then
  state=$(scontrol show job "$SLURM_JOB_ID" -o 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1)
  if [ "$state" = JobState=RUNNING ] && [ "\${SLURM_RESTART_COUNT:-0}" -ge ${MAX_REQUEUES} ]; then
    say "checkpointed, but not requeueing: ${MAX_REQUEUES} requeues already (time limit too short for a checkpoint?)" >&2
  elif [ "$state" = JobState=RUNNING ]; then
    say "checkpointed; requeueing \${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}"
    scontrol requeue "\${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}"
  else
    say "checkpointed (\${state#JobState=}: cancelled or requeued by Slurm)"
  fi
fi
say "exit $rc"
exit "$rc"
`;
}

/** The follow-up script (`results/<exp>/slurm/merge.sbatch`): merge, status, fit, plot. */
export function followupScript(plan: SlurmPlan): string {
  const { paths: p, options: o } = plan;
  const directives = [
    `#SBATCH --job-name=${shq(`fp4lab-${p.experiment}-merge`)}`,
    `#SBATCH --cpus-per-task=1`,
    ...commonDirectives(o),
    `#SBATCH --output=${logDir(p)}/merge-%j.out`,
    ...(o.extra ? [`#SBATCH ${o.extra}`] : []),
  ];
  const fitArgs = `--form ${shq(o.fitForm)} --baseline ${shq(o.baseline)}`;
  return `#!/bin/bash
# fp4lab: merge, fit and plot "${p.experiment}" once every task of its sweep array has ended; submitted by
# \`deno task sweep SPEC --slurm\` with --dependency=afterany:<array job>.
${directives.join("\n")}
${preamble(plan)}
dir="$results"/${shq(p.experiment)}
say "merging $dir"
./fp4lab task results merge "$dir" || exit 1
if ! ./fp4lab task sweep status "$dir"; then
  say "some runs are not done (see above): not fitting; submit the same --slurm command again to finish them" >&2
  exit 1
fi
./fp4lab task fit "$dir" ${fitArgs} || exit 1
./fp4lab task plot "$dir" ${fitArgs} || exit 1
say "done: $dir/runs.csv, fit.json, charts/"
`;
}
