/**
 * `deno task bench train [--layers 4 --d-model 128 --heads 4 --ffn N --context 128 --batch 16 --steps 10
 * --fwd fp32 --bwd fp32 | --scheme NAME --attention NAME --no-torch --profile --json]`
 *
 * Times full training steps of the engine (submitted back to back, one await at the end, like `train()`),
 * the GEMMs of a step on their own, and a per-kernel profile from timestamp queries; reports tokens/s and
 * GEMM GFLOP/s per wall second and per CPU-second of this process (llvmpipe threads included), peak GPU
 * memory allocated, and, when Debian's python3-torch is installed, the same model and batch in PyTorch on
 * CPU (tools/hf_llama_check.py --bench) with the ratio. `--attention NAME` (not fp32) adds, in the same run, the
 * step time and attention-product GFLOP/s with f32 attention and with the recipe (bench/attention.ts).
 * @module
 */
import { parseArgs } from "node:util";
import { adamScalars, getRuntime, stepSeed } from "../lib/engine/train.ts";
import { initParams, paramCounts, resolveModelConfig } from "../lib/models/llama/config.ts";
import { GpuModel, packBatch } from "../lib/models/llama/model.ts";
import { type Dispatch, Program } from "../lib/gpu/runtime.ts";
import { loadSource } from "../lib/data/sources.ts";
import { BatchSampler } from "../lib/data/batches.ts";
import { closestNames, schemeNames, schemePair } from "../lib/schemes/catalog.ts";
import { resolveRecipe } from "../lib/schemes/resolve.ts";
import { attentionRecipe, checkTrainable, FP32_ATTENTION } from "../lib/attention/recipes.ts";
import { attentionLines, benchAttention } from "./attention.ts";

/** CPU seconds used by this process so far (all threads, user + system). */
function cpuSeconds(): number {
  const f = Deno.readTextFileSync("/proc/self/stat");
  const s = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return (Number(s[11]) + Number(s[12])) / 100;
}

function loadAvg(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

/** Runs the PyTorch peer; returns null (with a reason) when torch is unavailable. */
async function torchPeer(
  a: { layers: number; dModel: number; heads: number; ffn: number; context: number; batch: number },
  threads: number,
): Promise<{ tokensPerSecond: number; stepSeconds: number } | string> {
  const script = new URL("../tools/hf_llama_check.py", import.meta.url).pathname;
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [
        script,
        "--bench",
        "--layers",
        String(a.layers),
        "--d-model",
        String(a.dModel),
        "--heads",
        String(a.heads),
        "--ffn",
        String(a.ffn),
        "--context",
        String(a.context),
        "--batch",
        String(a.batch),
        "--steps",
        "8",
        "--threads",
        String(threads),
      ],
      env: { OPENBLAS_NUM_THREADS: "1", OMP_WAIT_POLICY: "PASSIVE" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    if (out.code !== 0) {
      return /No module named 'torch'/.test(err)
        ? "python3-torch not installed"
        : err.trim().split("\n").at(-1)!;
    }
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } catch (e) {
    return `cannot run /usr/bin/python3: ${(e as Error).message}`;
  }
}

/** Entry point called by bench/main.ts. */
export async function main(args: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args,
    strict: true,
    options: {
      layers: { type: "string", default: "4" },
      "d-model": { type: "string", default: "128" },
      heads: { type: "string", default: "4" },
      ffn: { type: "string" },
      context: { type: "string", default: "128" },
      batch: { type: "string", default: "16" },
      steps: { type: "string", default: "10" },
      fwd: { type: "string", default: "fp32" },
      bwd: { type: "string", default: "fp32" },
      scheme: { type: "string" },
      "no-torch": { type: "boolean" },
      profile: { type: "boolean" },
      json: { type: "boolean" },
      attention: { type: "string" },
    },
  });
  let att;
  try {
    att = v.attention === undefined ? undefined : attentionRecipe(v.attention);
    if (att) checkTrainable(att);
  } catch (e) {
    console.error(`bench train: ${(e as Error).message}`);
    Deno.exit(2);
  }
  const cfg = resolveModelConfig({
    layers: Number(v.layers),
    dModel: Number(v["d-model"]),
    heads: Number(v.heads),
    ffn: v.ffn ? Number(v.ffn) : undefined,
    context: Number(v.context),
  });
  const B = Number(v.batch), steps = Number(v.steps), T = cfg.context, tok = B * T;
  const log = (s: string) => v.json ? undefined : console.log(s);
  const load0 = loadAvg();
  const { rt, adapter } = await getRuntime();
  const tBuild = performance.now();
  // --scheme NAME (lib/schemes catalogue) overrides --fwd/--bwd; `deno task bench schemes` compares with bf16.
  const pair = v.scheme === undefined ? { fwd: v.fwd!, bwd: v.bwd! } : schemePair(v.scheme);
  if (!pair) {
    console.error(
      `bench train: unknown scheme "${v.scheme}"; closest: ${
        closestNames(v.scheme!, schemeNames()).join(", ")
      }`,
    );
    Deno.exit(2);
  }
  const model = GpuModel.create(rt, cfg, { batch: B, recipe: resolveRecipe(pair) });
  model.setParams(initParams(cfg, 0));
  const sampler = new BatchSampler(loadSource("sotu").train, T, B, 0);
  const dev = rt.device;
  const step = (s: number) => {
    const b = sampler.at(s);
    model.writeBatch(packBatch(b.inputs, b.targets, cfg.vocab));
    const [lr, ss, bc2] = adamScalars(s, 1000, 1e-3);
    model.writeStep(lr, ss, bc2, stepSeed(0, s));
    model.trainProgram.submit(dev);
  };
  // warm-up (pipeline compilation happens at build time; first runs touch all memory)
  for (let s = 0; s < 2; s++) step(s);
  await dev.queue.onSubmittedWorkDone();
  const buildSeconds = (performance.now() - tBuild) / 1000;

  // full steps
  const c0 = cpuSeconds(), t0 = performance.now();
  for (let s = 2; s < 2 + steps; s++) step(s);
  await dev.queue.onSubmittedWorkDone();
  const wall = (performance.now() - t0) / 1000, cpu = cpuSeconds() - c0;
  const stepFlops = model.trainProgram.flops;

  // GEMMs alone (same dispatches and bind groups, no other work)
  const gemmProg = new Program();
  for (const it of model.trainProgram.items) if ("flops" in it && it.flops > 0) gemmProg.add(it);
  const reps = Math.max(2, Math.ceil(steps / 2));
  const gc0 = cpuSeconds(), gt0 = performance.now();
  for (let r = 0; r < reps; r++) gemmProg.submit(dev);
  await dev.queue.onSubmittedWorkDone();
  const gWall = (performance.now() - gt0) / 1000, gCpu = cpuSeconds() - gc0;
  const gemmFlops = gemmProg.flops * reps;

  // per-kernel profile with timestamp queries (one dispatch per pass)
  let profile: { kernel: string; calls: number; ms: number; gflops?: number }[] = [];
  if (dev.features.has("timestamp-query")) {
    const items = model.trainProgram.items.filter((it): it is Dispatch => "pipeline" in it);
    const qs = dev.createQuerySet({ type: "timestamp", count: items.length * 2 });
    const qb = dev.createBuffer({
      size: items.length * 16,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const rb = dev.createBuffer({
      size: items.length * 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = dev.createCommandEncoder();
    items.forEach((it, i) => {
      const p = enc.beginComputePass({
        timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
      p.setPipeline(it.pipeline);
      p.setBindGroup(0, it.bindGroup);
      p.dispatchWorkgroups(...it.grid);
      p.end();
    });
    enc.resolveQuerySet(qs, 0, items.length * 2, qb, 0);
    enc.copyBufferToBuffer(qb, 0, rb, 0, items.length * 16);
    dev.queue.submit([enc.finish()]);
    await rb.mapAsync(GPUMapMode.READ);
    const ts = new BigUint64Array(rb.getMappedRange());
    const agg = new Map<string, { calls: number; ms: number; flops: number }>();
    items.forEach((it, i) => {
      const ms = Number(ts[2 * i + 1] - ts[2 * i]) / 1e6;
      const key = it.label.replace(/^L\d+[ .]/, "");
      const a = agg.get(key) ?? { calls: 0, ms: 0, flops: 0 };
      a.calls++, a.ms += ms, a.flops += it.flops;
      agg.set(key, a);
    });
    rb.unmap();
    profile = [...agg].sort((a, b) => b[1].ms - a[1].ms).map(([kernel, a]) => ({
      kernel,
      calls: a.calls,
      ms: a.ms,
      ...(a.flops ? { gflops: a.flops / a.ms / 1e6 } : {}),
    }));
  }

  // PyTorch peer
  let torch: Record<string, unknown> | string = "skipped (--no-torch)";
  if (!v["no-torch"]) {
    const runs: Record<string, unknown> = {};
    let best: { tokensPerSecond: number } | undefined;
    for (const th of [1, 2]) {
      const r = await torchPeer({ ...cfg, batch: B }, th);
      if (typeof r === "string") {
        torch = r;
        best = undefined;
        break;
      }
      runs[`threads${th}`] = r;
      if (!best || r.tokensPerSecond > best.tokensPerSecond) best = r;
    }
    if (best) torch = { ...runs, bestTokensPerSecond: best.tokensPerSecond };
  }

  const tps = (steps * tok) / wall;
  const out = {
    model: { ...cfg, batch: B },
    scheme: `${v.fwd}:${v.bwd}`,
    params: paramCounts(cfg),
    adapter,
    steps,
    tokensPerStep: tok,
    stepSeconds: wall / steps,
    tokensPerSecond: tps,
    tokensPerCpuSecond: (steps * tok) / cpu,
    cpuCoresUsed: cpu / wall,
    stepGflop: stepFlops / 1e9,
    gemm: {
      gflopsPerWallSecond: gemmFlops / gWall / 1e9,
      gflopsPerCpuSecond: gemmFlops / gCpu / 1e9,
      shareOfStepWall: (gWall / reps) / (wall / steps),
    },
    dispatchesPerStep: model.trainProgram.dispatchCount,
    pipelines: rt.pipelineCount,
    peakGpuMemoryBytes: rt.peakBytes,
    buildSeconds,
    loadAverage: { start: load0, end: loadAvg() },
    torch,
    torchRatio: typeof torch === "object" ? tps / (torch.bestTokensPerSecond as number) : null,
    profile: v.profile ? profile : profile.slice(0, 12),
    attention: att && att.name !== "fp32"
      ? [
        await benchAttention(rt, cfg, B, steps, resolveRecipe(pair), FP32_ATTENTION),
        await benchAttention(rt, cfg, B, steps, resolveRecipe(pair), att),
      ]
      : undefined,
  };
  if (v.json) {
    console.log(JSON.stringify(out));
    return;
  }
  log(
    `engine training step, ${cfg.layers}L d${cfg.dModel} h${cfg.heads} ffn${cfg.ffn} T${T} B${B}, scheme ${out.scheme}`,
  );
  log(`adapter: ${adapter}; load average ${out.loadAverage.start} → ${out.loadAverage.end}`);
  log(
    `training: ${tps.toFixed(0)} tokens/s wall, ${out.tokensPerCpuSecond.toFixed(0)} tokens per CPU-second ` +
      `(${(wall / steps * 1000).toFixed(0)} ms/step, ${out.cpuCoresUsed.toFixed(2)} cores busy)`,
  );
  log(
    `GEMMs (${(stepFlops / 1e9).toFixed(2)} GFLOP/step): ${
      out.gemm.gflopsPerWallSecond.toFixed(1)
    } GFLOP/s wall, ` +
      `${out.gemm.gflopsPerCpuSecond.toFixed(1)} GFLOP per CPU-second, ${
        (out.gemm.shareOfStepWall * 100).toFixed(0)
      }% of a step`,
  );
  log(
    `peak GPU memory allocated: ${
      (rt.peakBytes / 2 ** 20).toFixed(1)
    } MiB; ${out.dispatchesPerStep} dispatches/step`,
  );
  if (typeof torch === "string") log(`PyTorch peer: ${torch}`);
  else {
    log(
      `PyTorch CPU peer (same model/batch, OPENBLAS_NUM_THREADS=1): ${
        (torch.bestTokensPerSecond as number).toFixed(0)
      } tokens/s; ` +
        `engine/PyTorch = ${out.torchRatio!.toFixed(3)}`,
    );
  }
  if (out.attention) {
    log(`attention recipes (same run, load average now ${loadAvg()}):`);
    for (const l of attentionLines(out.attention)) log(`  ${l}`);
  }
  log("profile (one step, per kernel class): kernel calls ms [GFLOP/s]");
  for (const p of out.profile) {
    log(
      `  ${p.kernel.padEnd(22)} ${String(p.calls).padStart(3)} ${p.ms.toFixed(1).padStart(8)}${
        p.gflops ? `  ${p.gflops.toFixed(1)}` : ""
      }`,
    );
  }
}

if (import.meta.main) await main(Deno.args);
