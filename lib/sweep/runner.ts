/**
 * The sweep runner: trains the pending runs of a spec (or of one shard of it) one after another,
 * resuming interrupted runs from their last checkpoint, skipping finished ones, recording diverged and
 * failed runs without stopping the sweep.
 * @module
 */
import type { CurvePoint, TrainConfig, TrainHooks, TrainResult } from "../engine/api.ts";
import { recoverCheckpoint } from "../engine/checkpoint.ts";
import { getGpu } from "../gpu/device.ts";
import { InputError } from "../spec/errors.ts";
import type { Experiment } from "../spec/schema.ts";
import { closestNames } from "../spec/suggest.ts";
import { writeJsonAtomic } from "../results/atomic.ts";
import type { RunRow } from "../results/columns.ts";
import { currentEnvironment } from "../results/environment.ts";
import { rebuildRunsCsv } from "../results/merge.ts";
import { ResultsDir, type RunRecord } from "../results/store.ts";
import { expandExperiment, type PlannedRun } from "./expand.ts";
import type { RunCoords } from "./filter.ts";
import { formatSi } from "./format.ts";
import { type Sink, SweepProgress } from "./progress.ts";
import { modelDims } from "../models/dims.ts";
import { throughputKey } from "./probe.ts";
import { selectShard, type Shard, shardLabel } from "./shard.ts";
import { ownerText, tryLockRun } from "./lock.ts";
import { hostName, StopAtCheckpoint } from "./slurm_stop.ts";
import { branchStep, sharingGroups, tokensToTrain } from "./sharing.ts";
import { ptqJobs, runPtqStage } from "./ptq_stage.ts";
import { packPlan } from "./packing.ts";
import { trainPacked } from "../engine/pack.ts";
import { DEFAULT_PACK } from "../engine/packable.ts";

/** Options of one sweep invocation. */
export interface SweepOptions {
  /** The validated experiment. */
  spec: Experiment;
  /** Results root; the experiment goes to `<resultsRoot>/<spec.name>`. Default "results". */
  resultsRoot?: string;
  /** This machine's part of the runs (`--shard i/n`). */
  shard?: Shard;
  /** Extra filter (`--only`). */
  only?: (run: RunCoords) => boolean;
  /** Run ids to retrain from scratch (`--force`). */
  force?: string[];
  /** Progress line sink (default: stderr). */
  sink?: Sink;
  /** Abort between steps (Ctrl-C); interrupted runs resume next time. */
  signal?: AbortSignal;
  /**
   * Stop at the next checkpoint (SIGTERM: Slurm's time-limit warning, preemption): the current run trains
   * on until it has written its next checkpoint (or `stopGraceSeconds` passed), then the sweep throws the
   * signal's reason; the next invocation resumes from that checkpoint.
   */
  stopAtCheckpoint?: AbortSignal;
  /** Longest wait for that checkpoint before stopping anyway (default 60 s). */
  stopGraceSeconds?: number;
  /** Most runs trained together in one pack (lib/sweep/packing.ts); 1: every run alone. Default 8. */
  pack?: number;
}

/** What a sweep did. */
export interface SweepSummary {
  /** The experiment's results directory. */
  dir: string;
  /** Runs of this shard after filters. */
  planned: number;
  /** Already done before this invocation. */
  skipped: number;
  /** Runs trained to the end by this invocation. */
  finished: number;
  /** Runs recorded as diverged. */
  diverged: number;
  /** Runs that failed with an error. */
  failed: number;
  /** Runs skipped because another process held their lock (was training them). */
  busy: number;
  /** Wall time of this invocation. */
  wallSeconds: number;
}

/** A loss above this many times ln(vocab) (uniform guessing) counts as exploded. */
const EXPLODE_FACTOR = 3;

/** The runs.csv row of a run. */
function rowOf(run: PlannedRun, status: RunRow["status"], r: Partial<TrainResult>, commit: string): RunRow {
  const m = modelDims(run.config.model);
  const num = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);
  return {
    run_id: run.id,
    status,
    family: m.family,
    scheme: run.scheme,
    fwd: run.fwd,
    bwd: run.bwd,
    fwd_bits: run.schemeInfo.fwdBits,
    bwd_bits: run.schemeInfo.bwdBits,
    layers: m.layers,
    d_model: m.dModel,
    heads: m.heads,
    ffn: m.ffn,
    context: m.context,
    non_embedding_params: r.nonEmbeddingParams ?? run.nonEmbeddingParams,
    total_params: r.totalParams ?? run.totalParams,
    tokens: r.tokens ?? run.trainTokens,
    flops: 6 * (r.nonEmbeddingParams ?? run.nonEmbeddingParams) * (r.tokens ?? run.trainTokens),
    final_val_loss: num(r.finalValLoss),
    final_train_loss: num(r.finalTrainLoss),
    wall_seconds: num(r.wallSeconds === undefined ? undefined : Number(r.wallSeconds.toFixed(3))),
    // 0 when a resume found the run already at its last step: unknown, not zero.
    tokens_per_second: r.tokensPerSecond ? Math.round(r.tokensPerSecond) : null,
    adapter: r.adapter ?? null,
    hostname: hostName(),
    seed: run.seed,
    commit,
    attention: run.config.attention ?? "fp32",
  };
}

/** The resolved spec as written to spec.json: the validated spec plus every run's config. */
export function resolvedSpec(spec: Experiment, runs: PlannedRun[]): unknown {
  return {
    spec,
    runs: runs.map((r) => ({
      id: r.id,
      scheme: r.scheme,
      model: r.model,
      tokensPerParam: r.tokensPerParam,
      tokens: r.tokens,
      seed: r.seed,
      nonEmbeddingParams: r.nonEmbeddingParams,
      trainTokens: r.trainTokens,
      flops: r.flops,
      config: r.config,
    })),
  };
}

/** The runs this invocation owns: shard partition first (over the whole spec), then --only. */
export function ownedRuns(all: PlannedRun[], shard?: Shard, only?: (r: RunCoords) => boolean): PlannedRun[] {
  const mine = selectShard(all, shard);
  return only ? mine.filter(only) : mine;
}

/** Checks --force ids against the expansion; InputError with the closest ids otherwise. */
function checkForce(all: PlannedRun[], force: string[]): void {
  const ids = all.map((r) => r.id);
  for (const f of force) {
    if (!ids.includes(f)) {
      const close = closestNames(f, ids);
      throw new InputError(
        `--force: no run "${f}" in this spec${close.length ? `; did you mean ${close.join(", ")}?` : ""}`,
      );
    }
  }
}

/** True when a record means "done" (failed runs are retried). */
function isDone(r: RunRecord | undefined): boolean {
  return r !== undefined && (r.row.status === "finished" || r.row.status === "diverged");
}

/**
 * Runs a sweep. Bad input (unknown scheme, bad --force, unwritable results directory) throws
 * InputError before the first run; an abort throws the signal's reason after the current step.
 */
export async function runSweep(opts: SweepOptions): Promise<SweepSummary> {
  const t0 = performance.now();
  const { spec } = opts;
  const { runs: all } = await expandExperiment(spec);
  const force = opts.force ?? [];
  checkForce(all, force);
  if (spec.ptq?.length) ptqJobs(spec.ptq); // bad recipe entries: InputError before any work
  const mine = ownedRuns(all, opts.shard, opts.only);
  for (const id of force) if (!mine.some((r) => r.id === id)) mine.push(all.find((r) => r.id === id)!);
  const dir = ResultsDir.of(opts.resultsRoot ?? "results", spec.name);
  await dir.ensureWritable();
  const label = opts.shard && opts.shard.count > 1 ? shardLabel(opts.shard) : "all";

  await writeJsonAtomic(`${dir.metaDir(label)}/spec.json`, resolvedSpec(spec, all));
  for (const id of force) await dir.removeRun(id);
  let pending: PlannedRun[] = [];
  let skipped = 0;
  for (const run of mine) {
    if (isDone(await dir.readRecord(run.id))) skipped++;
    else pending.push(run);
  }
  // Prefix sharing (./sharing.ts): each group's longest pending run first; it writes the branch
  // checkpoints of the shorter ones, which then train only their decay.
  const groups = sharingGroups(pending);
  const shorter = new Map<string, PlannedRun[]>(groups.map((g) => [g[0].id, g.slice(1)]));
  // Packs (./packing.ts): runs of one shape and scheme train together; leaders before branched runs.
  const packs = packPlan(groups.flat(), opts.pack ?? DEFAULT_PACK);
  pending = packs.flat();
  const toTrain = tokensToTrain(pending);
  // Nothing to train: no GPU, no environment record (a finished sweep re-run does no work).
  let commit = "unknown";
  if (pending.length) {
    const env = await currentEnvironment((await getGpu()).adapter);
    commit = env.commit;
    // Keyed by writer: an unsharded sweep keeps the shard entries a merge put at the top level.
    const envPath = `${dir.metaDir(label)}/environment.json`;
    const previous = await Deno.readTextFile(envPath).then(JSON.parse, () => ({}));
    await writeJsonAtomic(envPath, { ...previous, [label]: env });
  }
  const progress = new SweepProgress(
    pending.map((r) => ({
      id: r.id,
      key: throughputKey(r.config),
      tokens: toTrain.get(r.id) ?? r.trainTokens,
      flops: r.flops,
      params: r.nonEmbeddingParams,
    })),
    opts.sink,
  );
  if (skipped) {
    progress.note(`${spec.name}: ${skipped} of ${mine.length} runs already done, ${pending.length} to go`);
  }
  const summary: SweepSummary = {
    dir: dir.dir,
    planned: mine.length,
    skipped,
    finished: 0,
    diverged: 0,
    failed: 0,
    busy: 0,
    wallSeconds: 0,
  };

  const newStop = () =>
    opts.stopAtCheckpoint &&
    new StopAtCheckpoint(opts.stopAtCheckpoint, spec.checkpointEvery, opts.stopGraceSeconds ?? 60);
  // One process per run: a run whose lock another sweep holds (the same shard started twice) is skipped.
  for (const pack of packs) {
    opts.signal?.throwIfAborted();
    opts.stopAtCheckpoint?.throwIfAborted();
    const locks: { run: PlannedRun; release: () => void }[] = [];
    try {
      for (const run of pack) {
        const lock = tryLockRun(`${dir.dir}/locks/${run.id}.lock`);
        if ("busy" in lock) {
          summary.busy++;
          progress.note(`${run.id}: skipped, being trained by ${ownerText(lock.owner)}`);
        } else if (isDone(await dir.readRecord(run.id))) {
          summary.skipped++;
          lock.release();
        } else locks.push({ run, release: () => lock.release() });
      }
      if (!locks.length) continue;
      progress.start(locks[0].run.id); // a pack of one trains alone (trainPacked calls train())
      if (locks.length > 1) progress.note(`packed: ${locks.map((l) => l.run.id).join(", ")}`);
      const members = await Promise.all(locks.map(({ run }, i) => {
        const branches = (shorter.get(run.id) ?? []).map((b) => branchOf(b, dir));
        return memberOf(run, dir, spec, commit, label, progress, opts.signal, newStop(), branches, i === 0);
      }));
      const settled = await trainPacked(
        locks.map(({ run }, i) => ({ config: run.config, hooks: members[i].hooks })),
      );
      for (let i = 0; i < members.length; i++) {
        if (i > 0) progress.start(locks[i].run.id);
        const record = await members[i].finish(settled[i]);
        summary[record.row.status as "finished" | "diverged" | "failed"]++;
      }
    } finally {
      for (const l of locks) l.release();
    }
    if (label === "all") await rebuildRunsCsv(dir);
  }
  // Post-training quantization stage (CPU) over this invocation's finished runs.
  if (spec.ptq?.length) {
    await runPtqStage(dir, spec, mine.map((r) => r.id), {
      note: (l) => progress.note(l),
      signal: opts.signal,
    });
  }
  if (label === "all") await rebuildRunsCsv(dir);
  else if (pending.length) {
    progress.note(`shard ${label} done; when every shard is, run: deno task results merge ${spec.name}`);
  }
  summary.wallSeconds = (performance.now() - t0) / 1000;
  return summary;
}

/**
 * The branch checkpoint of `run` for the longest run of its group: written into the run's own checkpoint
 * directory under its lock, unless another process holds that lock or the run already has a checkpoint
 * at or past its branch point (trained before, or branched by an earlier attempt).
 */
function branchOf(run: PlannedRun, dir: ResultsDir): NonNullable<TrainHooks["branches"]>[number] {
  const step = branchStep(run.config);
  const outDir = dir.ckptDir(run.id);
  return {
    step,
    config: run.config,
    outDir,
    claim: () => {
      const lock = tryLockRun(`${dir.dir}/locks/${run.id}.lock`);
      if ("busy" in lock) return null;
      recoverCheckpoint(outDir);
      let have = -1;
      try {
        have = Number(JSON.parse(Deno.readTextFileSync(`${outDir}/trainer_state.json`)).step);
      } catch { /* no checkpoint yet */ }
      if (have >= step) {
        lock.release();
        return null;
      }
      return () => lock.release();
    },
  };
}

/**
 * The hooks of one run (checkpoints, resume, branches, progress, explosion and stop handling) and what
 * turns its outcome into a record and curve: shared by runs trained alone and members of a pack.
 * `show`: this run's progress drives the progress line (false for a pack's other members).
 */
async function memberOf(
  run: PlannedRun,
  dir: ResultsDir,
  spec: Experiment,
  commit: string,
  shard: string,
  progress: SweepProgress,
  signal?: AbortSignal,
  stop?: StopAtCheckpoint,
  branches: TrainHooks["branches"] = [],
  show = true,
): Promise<{ hooks: TrainHooks; finish: (r: PromiseSettledResult<TrainResult>) => Promise<RunRecord> }> {
  // Our own controller, so an exploding loss can stop the run; the sweep's signal is forwarded to it.
  const ctl = new AbortController();
  const forward = () => ctl.abort(signal?.reason);
  signal?.addEventListener("abort", forward);
  stop?.attach(ctl);
  // Llama: a multiple of the uniform-prediction loss ln(vocab); DiT: of the ε-MSE of predicting 0 (1)
  const m = run.config.model;
  const explode = EXPLODE_FACTOR * (m.family === "dit" ? 1 : Math.log(m.vocab));
  const seen: CurvePoint[] = [];
  let reported = false;
  let exploded = false;
  const coords = { model: run.model, tokensPerParam: run.tokensPerParam, tokens: run.tokens };
  const base = { version: 1 as const, config: run.config as TrainConfig, coords, shard };
  await dir.removeOrphanTemps(run.id);
  // Wall time of earlier, interrupted attempts (a heartbeat file, rewritten every few seconds).
  const heartbeat = `${dir.runDir(run.id)}/elapsed.json`;
  const prior = await Deno.readTextFile(heartbeat).then((t) => Number(JSON.parse(t).seconds) || 0, () => 0);
  const t0 = performance.now();
  let lastBeat = t0;
  const beat = () => {
    lastBeat = performance.now();
    writeJsonAtomic(heartbeat, { seconds: prior + (lastBeat - t0) / 1000 }).catch(() => {});
  };
  const hooks: TrainHooks = {
    outDir: dir.ckptDir(run.id),
    checkpointEvery: spec.checkpointEvery,
    resume: true,
    signal: ctl.signal,
    branches,
    onProgress: (p) => {
      if (exploded) return; // the engine drains its loss ring after the abort
      if (!reported && p.step > 1) {
        progress.note(`${run.id}: resumed from its checkpoint at step ${p.step - 1}`);
      }
      reported = true;
      if (show) progress.update(p);
      stop?.onStep(p.step, p.steps);
      if (performance.now() - lastBeat > 5000) beat();
      if (Number.isFinite(p.trainLoss) && p.trainLoss <= explode) {
        seen.push({ step: p.step, tokens: p.tokens, lr: p.lr, trainLoss: p.trainLoss });
      } else if (!exploded) {
        exploded = true;
        ctl.abort(new Error(`loss ${p.trainLoss} at step ${p.step}`));
      }
    },
  };
  const finish = async (settled: PromiseSettledResult<TrainResult>): Promise<RunRecord> => {
    let record: RunRecord;
    let curve: CurvePoint[];
    try {
      if (settled.status === "rejected") throw settled.reason;
      const result = settled.value;
      const diverged = result.status === "diverged" || !Number.isFinite(result.finalTrainLoss);
      const timed = { ...result, wallSeconds: prior + result.wallSeconds };
      record = {
        ...base,
        row: rowOf(run, diverged ? "diverged" : "finished", timed, commit),
        endedAt: now(),
      };
      curve = result.curve;
      progress.end(
        `${record.row.status}  val ${fmt(result.finalValLoss)}  train ${fmt(result.finalTrainLoss)}  ` +
          `${formatSi(result.tokensPerSecond)} tok/s`,
        result.tokensPerSecond,
      );
    } catch (e) {
      if (signal?.aborted) throw signal.reason ?? e;
      if (stop?.stopped) throw stop.reason ?? e;
      if (exploded) {
        // The loss blew up: a diverged run, with the last finite loss the engine reported.
        const last = seen.at(-1);
        record = {
          ...base,
          row: rowOf(run, "diverged", { finalTrainLoss: last?.trainLoss }, commit),
          error: String((ctl.signal.reason as Error)?.message ?? ctl.signal.reason),
          endedAt: now(),
        };
        curve = seen;
        progress.end(`diverged (${record.error})`);
      } else {
        const message = (e as Error)?.message ?? String(e);
        record = { ...base, row: rowOf(run, "failed", {}, commit), error: message, endedAt: now() };
        curve = seen;
        progress.end(`failed: ${message.split("\n")[0]}`);
      }
    } finally {
      signal?.removeEventListener("abort", forward);
      stop?.detach();
    }
    await dir.writeRun(record, curve);
    return record;
  };
  return { hooks, finish };
}

const now = () => new Date().toISOString();
const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));
