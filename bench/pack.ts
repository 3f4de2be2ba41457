/**
 * `deno task bench pack [--ks 1,2,4,8] [--steps 100] [--repeats 2] [--scheme bf16] [--no-torch] [--json]`
 *
 * Packed runs (lib/engine/pack.ts) at the demo's shape (bench/shapes.ts: the smallest model of
 * experiments/quartet-tiny.ts at its batch × context; today 1 layer, d 32, batch 16 × context 32): for each K,
 * K runs (seeds 0…K−1) train in one packed model, steps submitted back to back with each step's batch and
 * step scalars written as the trainer writes them; K = 1 is the ordinary single-run model. Prints tokens per
 * wall second and per CPU-second of this process (llvmpipe threads included) for every K, measured in the
 * same run (rounds alternate the Ks; the median of the rounds is reported), then the single-threaded PyTorch
 * peer for the same shape (tools/hf_llama_check.py --bench, as `bench train --shape demo`), with the CPU
 * model and the load averages. `--json`: `{shape, rows: [{k, tokensPerSecond, tokensPerCpuSecond}],
 * torch: {tokensPerSecond, tokensPerCpuSecond} | null, cpu, load}`.
 * @module
 */
import { parseArgs } from "node:util";
import { cpuModel, cpuSeconds, loadAvg, torchPeer } from "./train.ts";
import { BENCH_SHAPES, shapeLabel } from "./shapes.ts";
import { adamScalars, getRuntime, stepSeed } from "../lib/engine/train.ts";
import { initParams, resolveModelConfig } from "../lib/models/llama/config.ts";
import { GpuModel, packBatch } from "../lib/models/llama/model.ts";
import { packRunIds } from "../lib/layers/embedding.ts";
import { loadSource } from "../lib/data/sources.ts";
import { BatchSampler } from "../lib/data/batches.ts";
import { resolveRecipe } from "../lib/schemes/resolve.ts";
import { schemeNames, schemePair } from "../lib/schemes/catalog.ts";
import { packProblemOf } from "../lib/engine/packable.ts";
import type { TrainConfig } from "../lib/engine/api.ts";

const USAGE = "usage: deno task bench pack [--ks 1,2,4,8] [--steps 100] [--repeats 2] [--scheme bf16] " +
  "[--no-torch] [--json]";

/** One K's figures. */
interface Row {
  k: number;
  tokensPerSecond: number;
  tokensPerCpuSecond: number;
}

const fail = (msg: string): never => {
  console.error(`bench pack: ${msg}`);
  Deno.exit(2);
};

/** Parses and checks the options; exits 2 with one line on bad input. */
function options(args: string[]) {
  let v;
  try {
    v = parseArgs({
      args,
      options: {
        ks: { type: "string", default: "1,2,4,8" },
        steps: { type: "string", default: "100" },
        repeats: { type: "string", default: "2" },
        scheme: { type: "string", default: "bf16" },
        "no-torch": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    return fail((e as Error).message.split("\n")[0]);
  }
  if (v.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const int = (name: string, s: string, max: number) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      fail(`--${name} must be an integer in 1..${max} (got ${s})`);
    }
    return n;
  };
  const ks = v.ks.split(",").map((s) => int("ks", s.trim(), 64));
  if (!schemeNames().includes(v.scheme)) fail(`unknown scheme "${v.scheme}"; see deno task schemes`);
  return {
    ks,
    steps: int("steps", v.steps, 100_000),
    repeats: int("repeats", v.repeats, 100),
    scheme: v.scheme,
    torch: !v["no-torch"],
    json: v.json,
  };
}

/** Times `steps` packed steps of K runs at the demo shape; returns tokens per wall and per CPU second. */
async function measure(k: number, steps: number, scheme: string): Promise<Row> {
  const sh = BENCH_SHAPES.demo, cfg = resolveModelConfig(sh), B = sh.batch, T = cfg.context;
  const { rt } = await getRuntime();
  const pair = schemePair(scheme)!;
  const model = GpuModel.create(rt, cfg, { batch: B, recipe: resolveRecipe(pair), runs: k });
  try {
    const P = model.layout.totalFloats, params = new Float32Array(k * P);
    for (let r = 0; r < k; r++) params.set(initParams(cfg, r), r * P);
    model.setParams(params);
    const samplers = Array.from({ length: k }, (_, r) => new BatchSampler(loadSource("sotu").train, T, B, r));
    const step = (s: number) => {
      const [lr, stepSize, sqrtBc2] = adamScalars(s, 10_000, 1e-3);
      if (k === 1) {
        const b = samplers[0].at(s);
        model.writeBatch(packBatch(b.inputs, b.targets, cfg.vocab));
        model.writeStep(lr, stepSize, sqrtBc2, stepSeed(0, s));
      } else {
        model.writeBatch(packRunIds(samplers.map((x) => x.at(s)), cfg.vocab));
        model.writeSteps(samplers.map((_, r) => ({ lr, stepSize, sqrtBc2, seed: stepSeed(r, s) })));
      }
      model.trainProgram.submit(rt.device);
    };
    for (let s = 0; s < 2; s++) step(s); // warm-up
    await rt.device.queue.onSubmittedWorkDone();
    const c0 = cpuSeconds(), t0 = performance.now();
    for (let s = 2; s < 2 + steps; s++) step(s);
    await rt.device.queue.onSubmittedWorkDone();
    const wall = (performance.now() - t0) / 1000, cpu = cpuSeconds() - c0;
    const tokens = k * B * T * steps;
    return { k, tokensPerSecond: tokens / wall, tokensPerCpuSecond: tokens / Math.max(cpu, 1e-9) };
  } finally {
    model.destroy();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b), n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

/** Entry point (bench/main.ts). */
export async function main(args: string[]): Promise<void> {
  const o = options(args);
  const sh = BENCH_SHAPES.demo, cfg = resolveModelConfig(sh);
  const probe = { model: cfg, scheme: schemePair(o.scheme), attention: "fp32" } as unknown as TrainConfig;
  const problem = o.ks.some((k) => k > 1) && packProblemOf(probe);
  if (problem) fail(`scheme ${o.scheme} cannot be packed (${problem})`);
  const log = o.json ? () => {} : (s: string) => console.log(s);
  const load0 = loadAvg();
  log(
    `bench pack: demo shape (${shapeLabel(sh)}), scheme ${o.scheme}, ${o.steps} steps per K, ` +
      `${o.repeats} round(s); load ${load0}`,
  );
  const got = new Map<number, Row[]>(o.ks.map((k) => [k, []]));
  for (let r = 0; r < o.repeats; r++) {
    for (const k of r % 2 ? [...o.ks].reverse() : o.ks) {
      const row = await measure(k, o.steps, o.scheme);
      got.get(k)!.push(row);
      log(
        `  round ${r + 1}, K=${k}: ${Math.round(row.tokensPerSecond)} tok/s, ` +
          `${Math.round(row.tokensPerCpuSecond)} tok/CPU-s`,
      );
    }
  }
  const rows: Row[] = o.ks.map((k) => ({
    k,
    tokensPerSecond: median(got.get(k)!.map((x) => x.tokensPerSecond)),
    tokensPerCpuSecond: median(got.get(k)!.map((x) => x.tokensPerCpuSecond)),
  }));
  let torch: { tokensPerSecond: number; tokensPerCpuSecond: number } | null = null;
  let torchNote = "skipped (--no-torch)";
  if (o.torch) {
    const t = await torchPeer({ ...sh, ffn: cfg.ffn }, 1, 60);
    if (typeof t === "string") torchNote = t;
    else torch = { tokensPerSecond: t.tokensPerSecond, tokensPerCpuSecond: t.tokensPerCpuSecond ?? NaN };
  }
  const load1 = loadAvg(), cpu = cpuModel();
  if (o.json) {
    console.log(JSON.stringify({ shape: "demo", rows, torch, cpu, load: { start: load0, end: load1 } }));
    return;
  }
  const base = rows.find((r) => r.k === 1);
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  log("");
  log("| K | tok/s (wall) | tok/CPU-s | × K=1 per CPU-s | vs PyTorch per CPU-s |");
  log("|---|---:|---:|---:|---:|");
  for (const r of rows) {
    const gain = base ? (r.tokensPerCpuSecond / base.tokensPerCpuSecond).toFixed(2) : "—";
    const vs = torch ? (r.tokensPerCpuSecond / torch.tokensPerCpuSecond).toFixed(2) : "—";
    log(`| ${r.k} | ${n(r.tokensPerSecond)} | ${n(r.tokensPerCpuSecond)} | ${gain} | ${vs} |`);
  }
  log(
    torch
      ? `| PyTorch 1 thread | ${n(torch.tokensPerSecond)} | ${n(torch.tokensPerCpuSecond)} | | 1.00 |`
      : `PyTorch peer: ${torchNote}`,
  );
  log(`CPU: ${cpu}; load 1/5/15 min: ${load0} → ${load1}`);
}

if (import.meta.main) await main(Deno.args);
