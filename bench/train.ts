/**
 * `deno task bench train [--shape demo|small|reference[,…]] [--layers 4 --d-model 128 --heads 4 --ffn N
 * --context 128 --batch 16 --steps 10 --fwd fp32 --bwd fp32 | --scheme NAME --attention NAME --no-torch --profile --json]`
 *
 * `--shape` benches named shapes ({@link BENCH_SHAPES} in bench/shapes.ts; demo follows the demo's spec,
 * experiments/quartet-tiny.ts) one after another in the same process, each with the single-threaded PyTorch
 * peer, and closes with a table carrying the CPU model (lscpu) and load averages.
 *
 * Times full training steps of the engine (submitted back to back, one await at the end, like `train()`),
 * the GEMMs of a step on their own, and a per-kernel profile from timestamp queries; reports tokens/s and
 * GEMM GFLOP/s per wall second and per CPU-second of this process (llvmpipe threads included), peak GPU
 * memory allocated, and, when Debian's python3-torch is installed, the same model and batch in PyTorch on
 * CPU (tools/hf_llama_check.py --bench) with the ratio. `--attention NAME` (not fp32) adds, in the same run, the
 * step time and attention-product GFLOP/s with f32 attention and with the recipe (bench/attention.ts).
 * @module
 */
import { dispatchTimesMs } from "./profile.ts";
import { unknownNameMessage } from "../lib/spec/suggest.ts";
import { parseArgs } from "node:util";
import { getRuntime } from "../lib/engine/train.ts";
import { paramCounts, resolveModelConfig } from "../lib/models/llama/config.ts";
import { GpuModel } from "../lib/models/llama/model.ts";
import { type Dispatch, Program } from "../lib/gpu/runtime.ts";
import { schemeNames, schemePair } from "../lib/schemes/catalog.ts";
import { resolveRecipe } from "../lib/schemes/resolve.ts";
import {
  type AttentionRecipe,
  attentionRecipe,
  checkTrainable,
  FP32_ATTENTION,
} from "../lib/attention/recipes.ts";
import { attentionLines, benchAttention } from "./attention.ts";
import { BENCH_SHAPES } from "./shapes.ts";
import { warmSingleRun } from "./single_run.ts";

/** CPU seconds used by this process so far (all threads, user + system). */
export function cpuSeconds(): number {
  const f = Deno.readTextFileSync("/proc/self/stat");
  const s = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return (Number(s[11]) + Number(s[12])) / 100;
}

/** The 1/5/15-minute load averages (/proc/loadavg), for reports. */
export function loadAvg(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

/** Runs the PyTorch peer; returns null (with a reason) when torch is unavailable. */
export async function torchPeer(
  a: { layers: number; dModel: number; heads: number; ffn: number; context: number; batch: number },
  threads: number,
  steps = 8,
): Promise<{ tokensPerSecond: number; tokensPerCpuSecond?: number; stepSeconds: number } | string> {
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
        String(steps),
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

/** What one engine measurement needs. */
interface BenchJob {
  cfg: ReturnType<typeof resolveModelConfig>;
  batch: number;
  steps: number;
  pair: { fwd: string; bwd: string };
  /** PyTorch thread counts to run (empty: no peer). */
  torchThreads: number[];
  /** Why there is no peer, when torchThreads is empty. */
  noTorch?: string;
  profile: boolean;
  /** Attention recipe to time beside f32 attention in the same run (absent: none). */
  attention?: AttentionRecipe;
}

/** Times one shape: engine steps, GEMMs alone, a kernel profile and the PyTorch peer. */
async function benchOne(job: BenchJob) {
  const { cfg, steps, pair } = job;
  const att = job.attention;
  const B = job.batch, T = cfg.context, tok = B * T;
  const load0 = loadAvg();
  const { rt, adapter } = await getRuntime();
  const tBuild = performance.now();
  const model = GpuModel.create(rt, cfg, { batch: B, recipe: resolveRecipe(pair) });
  // warm-up (pipeline compilation happens at build time; first runs touch all memory)
  const step = await warmSingleRun(rt, model, cfg, B);
  const dev = rt.device;
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
  const items = model.trainProgram.items.filter((it): it is Dispatch => "pipeline" in it);
  const times = await dispatchTimesMs(dev, items);
  if (times) {
    const agg = new Map<string, { calls: number; ms: number; flops: number }>();
    items.forEach((it, i) => {
      const ms = times[i];
      const key = it.label.replace(/^L\d+[ .]/, "");
      const a = agg.get(key) ?? { calls: 0, ms: 0, flops: 0 };
      a.calls++, a.ms += ms, a.flops += it.flops;
      agg.set(key, a);
    });
    profile = [...agg].sort((a, b) => b[1].ms - a[1].ms).map(([kernel, a]) => ({
      kernel,
      calls: a.calls,
      ms: a.ms,
      ...(a.flops ? { gflops: a.flops / a.ms / 1e6 } : {}),
    }));
  }

  model.destroy();
  // PyTorch peer
  let torch: Record<string, unknown> | string = job.noTorch ?? "skipped (--no-torch)";
  if (job.torchThreads.length) {
    const runs: Record<string, unknown> = {};
    let best: { tokensPerSecond: number } | undefined;
    for (const th of job.torchThreads) {
      const r = await torchPeer({ ...cfg, batch: B }, th, Math.max(8, steps));
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
    scheme: `${pair.fwd}:${pair.bwd}`,
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
    profile: job.profile ? profile : profile.slice(0, 12),
    attention: att && att.name !== "fp32"
      ? [
        await benchAttention(rt, cfg, B, steps, resolveRecipe(pair), FP32_ATTENTION),
        await benchAttention(rt, cfg, B, steps, resolveRecipe(pair), att),
      ]
      : undefined,
  };
  return out;
}

/** Prints one measurement. */
function printOne(out: Awaited<ReturnType<typeof benchOne>>, log: (s: string) => void): void {
  const cfg = out.model, T = cfg.context, B = cfg.batch, tps = out.tokensPerSecond;
  const wall = out.stepSeconds * out.steps, steps = out.steps, stepFlops = out.stepGflop * 1e9;
  const torch = out.torch, adapter = out.adapter;
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
      (out.peakGpuMemoryBytes / 2 ** 20).toFixed(1)
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

const USAGE =
  `usage: deno task bench train [--shape demo|small|reference[,…]] [--layers 4 --d-model 128 --heads 4
  --ffn N --context 128 --batch 16] [--steps N] [--fwd fp32 --bwd fp32 | --scheme NAME] [--no-torch] [--profile] [--json]
  times engine training steps and, with python3-torch, the PyTorch peer on the same model and batch.
  --shape: named shapes (demo: quartet-tiny, small: quartet-small's largest, reference), each with the
  single-threaded PyTorch peer, in one run; a table with the CPU model and load closes the report.
  --steps: timed steps (default 10; with --shape: demo 200, small 30, reference 10).`;

/** Entry point called by bench/main.ts. */
export async function main(args: string[]): Promise<void> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      options: {
        layers: { type: "string", default: "4" },
        "d-model": { type: "string", default: "128" },
        heads: { type: "string", default: "4" },
        ffn: { type: "string" },
        context: { type: "string", default: "128" },
        batch: { type: "string", default: "16" },
        steps: { type: "string" },
        fwd: { type: "string", default: "fp32" },
        bwd: { type: "string", default: "fp32" },
        scheme: { type: "string" },
        "no-torch": { type: "boolean" },
        profile: { type: "boolean" },
        json: { type: "boolean" },
        shape: { type: "string" },
        attention: { type: "string" },
      },
    });
  } catch (e) {
    console.error(`bench train: ${(e as Error).message.split("\n")[0]}`);
    Deno.exit(2);
  }
  const v = parsed.values;
  const log = (s: string) => v.json ? undefined : console.log(s);
  // --scheme NAME (lib/schemes catalogue) overrides --fwd/--bwd; `deno task bench schemes` compares with bf16.
  const pair = v.scheme === undefined ? { fwd: v.fwd!, bwd: v.bwd! } : schemePair(v.scheme);
  if (!pair) {
    console.error(
      `bench: ${unknownNameMessage("scheme", v.scheme!, schemeNames())}`,
    );
    Deno.exit(2);
  }
  let attention;
  try {
    attention = v.attention === undefined ? undefined : attentionRecipe(v.attention);
    if (attention) checkTrainable(attention);
  } catch (e) {
    console.error(`bench train: ${(e as Error).message}`);
    Deno.exit(2);
  }
  const steps = v.steps === undefined ? undefined : Number(v.steps);
  if (v.shape !== undefined) {
    const names = v.shape.split(",").map((x) => x.trim());
    for (const n of names) {
      if (!(n in BENCH_SHAPES)) {
        console.error(`bench: ${unknownNameMessage("shape", n, Object.keys(BENCH_SHAPES))}`);
        Deno.exit(2);
      }
    }
    const rows = [];
    for (const n of names as (keyof typeof BENCH_SHAPES)[]) {
      const { batch, steps: shapeSteps, ...shape } = BENCH_SHAPES[n];
      log(`\n== shape ${n} ==`);
      const out = await benchOne({
        cfg: resolveModelConfig(shape),
        batch,
        steps: steps ?? shapeSteps,
        pair,
        torchThreads: v["no-torch"] ? [] : [1],
        profile: !!v.profile,
        attention,
      });
      if (!v.json) printOne(out, log);
      rows.push({ shape: n, ...out });
    }
    const cpu = cpuModel();
    if (v.json) {
      console.log(JSON.stringify({ cpu, rows }));
      return;
    }
    log(`\nCPU: ${cpu}; load average (1/5/15 min) at the start and end of each shape`);
    log(
      "per wall-second (w) and per CPU-second of the process (c); PyTorch: 1 thread, OPENBLAS_NUM_THREADS=1",
    );
    const head = ["shape", "engine w", "engine c", "torch w", "torch c", "ratio w", "ratio c", "load"];
    const table = rows.map((r) => {
      const t = typeof r.torch === "object"
        ? r.torch.threads1 as { tokensPerSecond: number; tokensPerCpuSecond?: number }
        : undefined;
      const f = (
        x: number | undefined,
        d = 0,
      ) => (x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(d));
      return [
        r.shape,
        f(r.tokensPerSecond),
        f(r.tokensPerCpuSecond),
        t ? f(t.tokensPerSecond) : String(r.torch),
        f(t?.tokensPerCpuSecond),
        f(t && r.tokensPerSecond / t.tokensPerSecond, 3),
        f(t?.tokensPerCpuSecond && r.tokensPerCpuSecond / t.tokensPerCpuSecond, 3),
        `${r.loadAverage.start} → ${r.loadAverage.end}`,
      ];
    });
    const width = head.map((h, k) => Math.max(h.length, ...table.map((row) => row[k].length)));
    for (const row of [head, ...table]) {
      log(row.map((c, k) => (k === 0 || k === 7 ? c.padEnd(width[k]) : c.padStart(width[k]))).join("  "));
    }
    return;
  }
  const cfg = resolveModelConfig({
    layers: Number(v.layers),
    dModel: Number(v["d-model"]),
    heads: Number(v.heads),
    ffn: v.ffn ? Number(v.ffn) : undefined,
    context: Number(v.context),
  });
  const out = await benchOne({
    cfg,
    batch: Number(v.batch),
    steps: steps ?? 10,
    pair,
    torchThreads: v["no-torch"] ? [] : [1, 2],
    profile: !!v.profile,
    attention,
  });
  if (v.json) {
    console.log(JSON.stringify(out));
    return;
  }
  printOne(out, log);
}

/** The CPU model from lscpu (or /proc/cpuinfo), for reports. */
export function cpuModel(): string {
  try {
    const out = new Deno.Command("lscpu", { stdout: "piped", stderr: "null" }).outputSync();
    const m = /^Model name:\s*(.+)$/m.exec(new TextDecoder().decode(out.stdout));
    if (m) return `${m[1].trim()} (${navigator.hardwareConcurrency} CPUs)`;
  } catch { /* no lscpu */ }
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"));
    if (m) return m[1].trim();
  } catch { /* not Linux */ }
  return "unknown CPU";
}

if (import.meta.main) await main(Deno.args);
