/**
 * Packed runs: K training runs of one shape and scheme (different seeds, peak learning rates or schedules)
 * trained together in one recorded program. The model holds K parameter slabs and a K·B batch; the kernels
 * that touch per-run state carry a run index (the `runs` parameter of kernels/engine/ops.ts), so each
 * dispatch serves every run and its fixed cost is shared. Each run keeps its own data order (its sampler), init, step scalars (lr, bias
 * corrections, rounding seed), gradient clipping, losses, evaluations, checkpoints and branch checkpoints:
 * its curve, losses and checkpoint are bit-identical to the same run trained alone by `train()`
 * (tests/engine_pack_test.ts).
 *
 * What packs is decided in ./packable.ts (pure: the sweep planner uses it without loading the engine).
 * @module
 */
import type { CurvePoint, ModelConfig, TrainConfig, TrainHooks, TrainResult } from "./api.ts";
import { initParams, paramCounts } from "../models/llama/config.ts";
import { GpuModel } from "../models/llama/model.ts";
import { packRunIds } from "../layers/embedding.ts";
import { packKey, packProblemOf } from "./packable.ts";
import { adamScalars, scheduledLr, stepSeed } from "./schedule.ts";
import { getRuntime, RING, train, validateBranch, validateTrainConfig } from "./train.ts";
import { resolveRecipe } from "../schemes/resolve.ts";
import { loadSource } from "../data/sources.ts";
import { type Batch, BatchSampler, validationBatches } from "../data/batches.ts";
import { loadModel, loadTrainerState, saveCheckpoint, type TrainerState } from "./checkpoint.ts";

/** One run of a pack: its config and its own hooks (checkpoints, progress, abort, branches). */
export interface PackMember {
  /** The run's config. */
  config: TrainConfig;
  /** The run's hooks, as `train(config, hooks)` takes them. */
  hooks: TrainHooks;
}

/** Per-run bookkeeping of a pack. */
interface Member {
  cfg: TrainConfig;
  hooks: TrainHooks;
  sampler: BatchSampler;
  curve: CurvePoint[];
  trainLosses: number[];
  start: number;
  /** A loss read back was not finite (as `train`'s `diverged`). */
  diverged: boolean;
  /** No longer trained: diverged at a step start (as `train`'s break) or aborted. */
  stopped: boolean;
  error?: Error;
}

/**
 * Trains K runs packed (K = members.length ≥ 1); each settles like `train(config, hooks)` would, with the
 * same result. Members that cannot pack together (different {@link packKey}, a {@link packProblemOf},
 * checkpoints at different steps or of another config) are trained one after another by `train()` instead.
 * An error of the pack as a whole (after its model was built) settles every member with that error, as each
 * run alone would have failed.
 */
export async function trainPacked(members: PackMember[]): Promise<PromiseSettledResult<TrainResult>[]> {
  const norm = (c: TrainConfig): TrainConfig => ({ ...c, scheme: c.scheme ?? { fwd: "fp32", bwd: "fp32" } });
  const cfgs = members.map((m) => norm(m.config));
  // resume state of each member: its step, or -1 for a checkpoint of another config (train() refuses it)
  const startOf = (m: PackMember, c: TrainConfig) => {
    const st = m.hooks.resume && m.hooks.outDir ? loadTrainerState(m.hooks.outDir)?.state : undefined;
    return !st ? 0 : JSON.stringify(st.config) === JSON.stringify(c) ? st.step : -1;
  };
  const starts = members.length < 2 ? [] : members.map((m, r) => startOf(m, cfgs[r]));
  const alone = members.length < 2 || cfgs.some((c) => packKey(c) !== packKey(cfgs[0]) || packProblemOf(c)) ||
    starts.some((s) => s !== starts[0] || s < 0);
  if (!alone) {
    try {
      return await trainPack(cfgs, members.map((m) => m.hooks));
    } catch (e) {
      // a layer the planner thought packable refused at build time: train the runs one by one
      if (!(e instanceof PackRefused)) return members.map(() => ({ status: "rejected", reason: e }));
    }
  }
  const out: PromiseSettledResult<TrainResult>[] = [];
  for (const m of members) {
    out.push(
      await train(m.config, m.hooks).then(
        (value) => ({ status: "fulfilled" as const, value }),
        (reason) => ({ status: "rejected" as const, reason }),
      ),
    );
  }
  return out;
}

/** A packed model could not be built (a layer's `cannot pack runs`): nothing was trained. */
class PackRefused extends Error {}

async function trainPack(
  cfgs: TrainConfig[],
  hooks: TrainHooks[],
): Promise<PromiseSettledResult<TrainResult>[]> {
  const t0 = performance.now();
  for (const c of cfgs) validateTrainConfig(c);
  const K = cfgs.length, c0 = cfgs[0], mc = c0.model as ModelConfig;
  const branches = hooks.map((h, r) =>
    (h.branches ?? []).map((b) => {
      const config = { ...b.config, scheme: b.config.scheme ?? { fwd: "fp32", bwd: "fp32" } };
      validateBranch(cfgs[r], config, b.step);
      return { ...b, config };
    })
  );
  const { rt, adapter } = await getRuntime();
  const data = loadSource(c0.data);
  const T = mc.context, B = c0.batch, tokPerStep = B * T, steps = c0.steps;
  const ms: Member[] = cfgs.map((cfg, r) => ({
    cfg,
    hooks: hooks[r],
    sampler: new BatchSampler(data.train, T, B, cfg.seed),
    curve: [],
    trainLosses: [],
    start: 0,
    diverged: false,
    stopped: false,
  }));
  if (steps * B > ms[0].sampler.windows) {
    console.warn(
      `warning: ${steps * tokPerStep} training tokens requested but "${data.name}" has ` +
        `${ms[0].sampler.availableTokens} (${
          (steps * B / ms[0].sampler.windows).toFixed(2)
        } epochs): data will repeat`,
    );
  }
  for (const m of ms) {
    m.hooks.onData?.({
      source: data.name,
      trainTokens: m.sampler.availableTokens,
      valTokens: data.val.length,
      entropyRate: data.entropyRate,
    });
  }
  const val = validationBatches(data.val, T, B, c0.evalTokens);
  if (val.tokens < 1) throw new Error(`data: "${data.name}" has no validation tokens`);
  let model: GpuModel;
  try {
    model = GpuModel.create(rt, mc, { batch: B, recipe: resolveRecipe(c0.scheme), train: true, runs: K });
  } catch (e) {
    throw /cannot pack runs/.test(String((e as Error)?.message)) ? new PackRefused(String(e)) : e;
  }
  const P = model.layout.totalFloats;
  let ring: GPUBuffer[] = [];
  try {
    // ---- initial or resumed state, per run ----
    const params = new Float32Array(K * P), m1 = new Float32Array(K * P), m2 = new Float32Array(K * P);
    let resumedAny = false;
    ms.forEach((m, r) => {
      const resumed = m.hooks.resume && m.hooks.outDir ? loadTrainerState(m.hooks.outDir) : null;
      if (resumed) {
        if (JSON.stringify(resumed.state.config) !== JSON.stringify(m.cfg)) {
          throw new Error(
            `checkpoint ${m.hooks.outDir} was written by a different config; refusing to resume`,
          );
        }
        params.set(loadModel(m.hooks.outDir!).params, r * P);
        m1.set(resumed.m, r * P);
        m2.set(resumed.v, r * P);
        m.start = resumed.state.step;
        m.curve.push(...resumed.state.curve);
        m.trainLosses.push(...resumed.state.trainLosses);
        resumedAny = true;
      } else params.set(initParams(mc, m.cfg.seed), r * P);
    });
    model.setParams(params);
    if (resumedAny) model.setMoments(m1, m2);
    const start = ms[0].start;
    const lrOf = (m: Member, s: number) => scheduledLr(s, steps, m.cfg.lr, m.cfg.schedule);

    // ---- loss ring: the K runs' scalars of a step ----
    ring = Array.from({ length: RING }, (_, i) => rt.readback(16 * K, `pack loss ring ${i}`));
    const pending: { step: number; slot: number; p: Promise<void> }[] = [];
    let trainSeconds = 0, loopStart = performance.now(), stepsRun = 0;
    const live = () => ms.filter((m) => !m.stopped);
    const settle = async (upTo: number) => {
      while (pending.length && pending[0].step <= upTo) {
        const e = pending.shift()!;
        await e.p;
        const s = new Float32Array(ring[e.slot].getMappedRange(0, 16 * K).slice(0));
        ring[e.slot].unmap();
        const step = e.step + 1;
        ms.forEach((m, r) => {
          const loss = s[4 * r];
          if (m.stopped || m.diverged) return;
          if (!Number.isFinite(loss)) return void (m.diverged = true);
          m.trainLosses.push(loss);
          m.curve.push({ step, tokens: step * tokPerStep, lr: lrOf(m, e.step), trainLoss: loss });
          if (m.hooks.onProgress) {
            const el = trainSeconds + (performance.now() - loopStart) / 1000;
            const tps = ((step - start) * tokPerStep) / Math.max(el, 1e-9);
            m.hooks.onProgress({
              step,
              steps,
              tokens: step * tokPerStep,
              lr: lrOf(m, e.step),
              trainLoss: loss,
              tokensPerSecond: tps,
              etaSeconds: ((steps - step) * tokPerStep) / Math.max(tps, 1e-9),
            });
          }
        });
      }
    };
    const pause = () => (trainSeconds += (performance.now() - loopStart) / 1000);
    const resume = () => (loopStart = performance.now());

    const runEval = async (step: number, who: Member[]) => {
      await settle(Infinity);
      pause();
      const v = await evaluatePacked(model, val.batches);
      for (const m of who) {
        const r = ms.indexOf(m);
        const pt = m.curve.findLast((c) => c.step === step);
        if (pt) pt.valLoss = v[r];
        else {
          m.curve.push({
            step,
            tokens: step * tokPerStep,
            lr: lrOf(m, Math.max(0, step - 1)),
            trainLoss: NaN,
            valLoss: v[r],
          });
        }
        m.hooks.onEval?.({ step, tokens: step * tokPerStep, valLoss: v[r] });
      }
      resume();
      return v;
    };
    const save = async (step: number, targets: { m: Member; dir?: string; config: TrainConfig }[]) => {
      targets = targets.filter((t) => t.dir);
      if (!targets.length) return;
      await settle(Infinity);
      pause();
      const [p, a, b] = [
        await model.readFloats(model.params),
        await model.readFloats(model.m1),
        await model.readFloats(model.m2),
      ];
      for (const { m, dir, config } of targets) {
        const r = ms.indexOf(m), sl = (x: Float32Array) => x.slice(r * P, (r + 1) * P);
        const state: TrainerState = {
          step,
          config,
          curve: m.curve,
          trainLosses: m.trainLosses,
          adapter,
          tokens: step * tokPerStep,
        };
        saveCheckpoint(dir!, mc, sl(p), { m: sl(a), v: sl(b) }, state, config.scheme);
      }
      resume();
    };

    // ---- the loop ----
    const V = mc.vocab;
    for (let s = start; s < steps; s++) {
      const aborted = live().filter((m) => m.hooks.signal?.aborted);
      if (aborted.length) {
        await settle(Infinity);
        for (const m of aborted) [m.stopped, m.error] = [true, new Error("training aborted")];
      }
      if (pending.length >= RING) await settle(pending[0].step);
      for (const m of ms) if (m.diverged) m.stopped = true;
      if (!live().length) break;
      const slot = s % RING;
      model.writeBatch(packRunIds(ms.map((m) => m.sampler.at(s)), V));
      model.writeSteps(ms.map((m) => {
        const [lr, stepSize, sqrtBc2] = adamScalars(s, steps, m.cfg.lr, m.cfg.schedule);
        return { lr, stepSize, sqrtBc2, seed: stepSeed(m.cfg.seed, s) };
      }));
      const enc = rt.device.createCommandEncoder();
      model.trainProgram.encode(enc);
      enc.copyBufferToBuffer(model.scalars, 0, ring[slot], 0, 16 * K);
      rt.device.queue.submit([enc.finish()]);
      pending.push({ step: s, slot, p: guard(ring[slot].mapAsync(GPUMapMode.READ)) });
      stepsRun++;
      const done = s + 1;
      if (c0.evalEvery > 0 && done % c0.evalEvery === 0 && done < steps) await runEval(done, live());
      const every = (m: Member) =>
        m.hooks.checkpointEvery && done % m.hooks.checkpointEvery === 0 && done < steps;
      await save(done, live().filter(every).map((m) => ({ m, dir: m.hooks.outDir, config: m.cfg })));
      for (const m of live()) {
        for (const b of branches[ms.indexOf(m)]) {
          if (b.step !== done || m.diverged) continue;
          await settle(Infinity); // a loss read back now may reveal a divergence: never branch from one
          if (m.diverged) continue;
          const release = b.claim ? b.claim() : () => {};
          if (!release) continue;
          try {
            await save(done, [{ m, dir: b.outDir, config: b.config }]);
          } finally {
            release();
          }
        }
      }
    }
    await settle(Infinity);
    pause();
    const trainLoopSeconds = trainSeconds;
    resume();
    const ok = live().filter((m) => !m.diverged);
    if (ok.length) {
      await runEval(steps, ok);
      await save(steps, ok.map((m) => ({ m, dir: m.hooks.outDir, config: m.cfg })));
    }
    const counts = paramCounts(mc);
    return ms.map((m): PromiseSettledResult<TrainResult> => {
      if (m.error) return { status: "rejected", reason: m.error };
      const lastStep = m.diverged ? (m.curve.at(-1)?.step ?? 0) : steps;
      const k = Math.max(1, Math.min(20, Math.ceil(steps * 0.05)));
      const tail = m.trainLosses.slice(-k);
      return {
        status: "fulfilled",
        value: {
          status: m.diverged ? "diverged" : "finished",
          nonEmbeddingParams: counts.nonEmbedding,
          totalParams: counts.total,
          tokens: lastStep * tokPerStep,
          steps: lastStep,
          finalValLoss: m.diverged ? NaN : m.curve.findLast((c) => c.step === steps)?.valLoss ?? NaN,
          finalTrainLoss: tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : NaN,
          // each run's own tokens per second (the pack trains K times as many)
          tokensPerSecond: stepsRun ? (stepsRun * tokPerStep) / Math.max(trainLoopSeconds, 1e-9) : 0,
          wallSeconds: (performance.now() - t0) / 1000,
          adapter,
          curve: m.curve,
          availableTokens: m.sampler.availableTokens,
          epochs: (lastStep * tokPerStep) / m.sampler.availableTokens,
          ...(data.entropyRate !== undefined ? { entropyRate: data.entropyRate } : {}),
        },
      };
    });
  } finally {
    for (const r of ring) r.destroy();
    await rt.device.queue.onSubmittedWorkDone();
    model.destroy();
  }
}

/** Mean next-token loss of `batches` for every run of a packed model (the same batches for each). */
export async function evaluatePacked(model: GpuModel, batches: Batch[]): Promise<number[]> {
  const K = model.pack!.runs, V = model.cfg.vocab;
  model.resetEvalSum();
  let count = 0;
  for (const b of batches) {
    for (const t of b.targets) if (t >= 0) count++;
    model.writeBatch(packRunIds(Array.from({ length: K }, () => b), V));
    model.evalProgram.submit(model.rt.device);
  }
  const s = await model.readFloats(model.scalars, 4 * K);
  return Array.from({ length: K }, (_, r) => (count ? s[4 * r + 1] / count : NaN));
}

/** Marks a promise as handled (a failed pack destroys its ring while maps may be pending) and returns it. */
function guard(p: Promise<void>): Promise<void> {
  p.catch(() => {});
  return p;
}
