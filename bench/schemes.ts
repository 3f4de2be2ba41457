/**
 * `deno task bench schemes [--scheme quartet,fp8,… | --all] [--packed] [--gemm] [--steps 4] [--layers 4 --d-model 128 --heads 4
 * --context 128 --batch 16] [--json]`
 *
 * Step time of each scheme beside `bf16` in the same run, on the reference model: every scheme's model is
 * built (pipelines compiled), warmed up two steps, then timed twice over `--steps` full training steps
 * submitted back to back with one await at the end (as `train()` does), keeping the faster round. bf16 is timed before and after
 * the schemes and averaged, so drift from the shared CPU shows up in its two numbers. Reports wall ms per
 * step, CPU-seconds per step (this process, llvmpipe threads included) and the ratio to bf16. `--packed`
 * also times each scheme with the packed FP4 GEMMs on (off by default: lib/schemes/compile.ts);
 * `--gemm` compares the packed FP4 GEMM kernel with the f32 storage-buffer GEMM on the model's shapes.
 * @module
 */
import { unknownNameMessage } from "../lib/spec/suggest.ts";
import { parseArgs } from "node:util";
import { adamScalars, getRuntime, stepSeed } from "../lib/engine/train.ts";
import { initParams, resolveModelConfig } from "../lib/models/llama/config.ts";
import { GpuModel, packBatch } from "../lib/models/llama/model.ts";
import { loadSource } from "../lib/data/sources.ts";
import { BatchSampler } from "../lib/data/batches.ts";
import { NAMED, schemeNames, schemePair } from "../lib/schemes/catalog.ts";
import { gemmGrid, gemmKey, type GemmSpec, gemmWgsl } from "../kernels/engine/gemm.ts";
import { fp4GemmGrid, fp4GemmKernel } from "../kernels/schemes/fp4gemm.ts";
import { Program, type Runtime } from "../lib/gpu/runtime.ts";
import { compileOptions } from "../lib/schemes/compile.ts";
import { resolveRecipe } from "../lib/schemes/resolve.ts";

/**
 * Packed FP4 GEMM vs the engine's f32 GEMM on the reference model's linear shapes (forward qkv, gate_up,
 * down and a dW-shaped K = tokens product): `reps` dispatches per submit, one await, best of 3.
 */
export async function gemmComparison(
  rt: Runtime,
  reps = 8,
): Promise<{ shape: string; f32: number; fp4: number; speedup: number; f32Cpu: number; fp4Cpu: number }[]> {
  const shapes: [number, number, number][] = [[2048, 384, 128], [2048, 704, 128], [2048, 128, 352], [
    384,
    128,
    2048,
  ]];
  const out = [];
  for (const [M, N, K] of shapes) {
    const rnd = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
    const buf = (a: Float32Array | Uint32Array) => {
      const b = rt.storage(a.byteLength, "bench");
      rt.device.queue.writeBuffer(b, 0, a as Float32Array<ArrayBuffer>);
      return b;
    };
    const spec: GemmSpec = { M, N, K, transA: false, transB: true, a: { ld: K }, b: { ld: K }, c: { ld: N } };
    const fA = buf(rnd(M * K)), fB = buf(rnd(N * K)), fC = buf(new Float32Array(M * N));
    const codes = (n: number) => Uint32Array.from({ length: n / 8 }, () => (Math.random() * 2 ** 32) >>> 0);
    const qA = buf(codes(M * K)), qB = buf(codes(N * K));
    const sA = buf(new Float32Array(M * K / 32).fill(1)), sB = buf(new Float32Array(N * K / 32).fill(1));
    const pf = new Program(), pq = new Program();
    const f32 = rt.dispatch(
      "f32",
      rt.pipeline(gemmKey(spec), () => gemmWgsl(spec)),
      [fA, fB, fC],
      gemmGrid(spec),
    );
    const fp4 = rt.dispatch(
      "fp4",
      rt.pipeline(`fp4gemm:${M}:${N}:${K}:false`, () => fp4GemmKernel(M, N, K, false)),
      [qA, sA, qB, sB, fC],
      fp4GemmGrid(M, N),
    );
    for (let r = 0; r < reps; r++) {
      pf.add(f32);
      pq.add(fp4);
    }
    const time = async (p: Program) => {
      let best = Infinity, bestCpu = Infinity;
      for (let t = 0; t < 3; t++) {
        const c0 = cpuSeconds(), t0 = performance.now();
        p.submit(rt.device);
        await rt.device.queue.onSubmittedWorkDone();
        best = Math.min(best, (performance.now() - t0) / reps);
        bestCpu = Math.min(bestCpu, (cpuSeconds() - c0) / reps);
      }
      return [best, bestCpu];
    };
    await time(pf);
    const [tf, cf] = await time(pf), [tq, cq] = await time(pq);
    const gf = (ms: number) => (2 * M * N * K) / (ms * 1e6);
    out.push({
      shape: `${M}x${N}x${K}`,
      f32: gf(tf),
      fp4: gf(tq),
      speedup: tf / tq,
      f32Cpu: cf * 1000,
      fp4Cpu: cq * 1000,
    });
    for (const b of [fA, fB, fC, qA, qB, sA, sB]) b.destroy();
  }
  return out;
}

/** CPU seconds used by this process so far (all threads, user + system). */
function cpuSeconds(): number {
  const f = Deno.readTextFileSync("/proc/self/stat");
  const s = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return (Number(s[11]) + Number(s[12])) / 100;
}

/** One timing row. */
export interface SchemeTiming {
  scheme: string;
  fwd: string;
  bwd: string;
  msPerStep: number;
  cpuPerStep: number;
  ratioWall: number;
  ratioCpu: number;
}

/** Entry point called by bench/main.ts. */
export async function main(args: string[]): Promise<void> {
  let v;
  try {
    ({ values: v } = parseArgs({
      args,
      strict: true,
      options: {
        scheme: { type: "string", default: "quartet" },
        all: { type: "boolean" },
        steps: { type: "string", default: "4" },
        layers: { type: "string", default: "4" },
        "d-model": { type: "string", default: "128" },
        heads: { type: "string", default: "4" },
        context: { type: "string", default: "128" },
        batch: { type: "string", default: "16" },
        json: { type: "boolean" },
        gemm: { type: "boolean" },
        packed: { type: "boolean" },
      },
    }));
  } catch (e) {
    console.error(`bench schemes: ${(e as Error).message.split("\n")[0]}`);
    Deno.exit(2);
  }
  if (v.gemm) {
    const { rt, adapter } = await getRuntime();
    const rows = await gemmComparison(rt);
    if (v.json) return console.log(JSON.stringify({ adapter, rows }));
    console.log(`adapter ${adapter}: packed FP4 GEMM vs f32 GEMM (effective GFLOP/s, best of 3)`);
    console.log("shape M×N×K         f32 GF/s  fp4 GF/s  speedup  f32 CPU-ms  fp4 CPU-ms");
    for (const r of rows) {
      console.log(
        `${r.shape.padEnd(18)} ${r.f32.toFixed(1).padStart(9)} ${r.fp4.toFixed(1).padStart(9)} ${
          r.speedup.toFixed(2).padStart(8)
        } ${r.f32Cpu.toFixed(1).padStart(11)} ${r.fp4Cpu.toFixed(1).padStart(11)}`,
      );
    }
    return;
  }
  const names = v.all ? Object.keys(NAMED).filter((n) => n !== "bf16") : v.scheme!.split(",");
  for (const n of names) {
    if (!schemePair(n)) {
      console.error(
        `bench: ${unknownNameMessage("scheme", n, schemeNames())}`,
      );
      Deno.exit(2);
    }
  }
  const cfg = resolveModelConfig({
    layers: Number(v.layers),
    dModel: Number(v["d-model"]),
    heads: Number(v.heads),
    context: Number(v.context),
  });
  const B = Number(v.batch), steps = Number(v.steps), T = cfg.context;
  const { rt, adapter } = await getRuntime();
  const sampler = new BatchSampler(loadSource("sotu").train, T, B, 0);
  const params = initParams(cfg, 0);
  const time = async (name: string, packed = false): Promise<{ ms: number; cpu: number }> => {
    compileOptions.packed = packed; // packed FP4 GEMMs where both operands are FP4 (read when the model is built)
    const model = GpuModel.create(rt, cfg, { batch: B, recipe: resolveRecipe(schemePair(name)!) });
    model.setParams(params);
    const step = (s: number) => {
      const b = sampler.at(s);
      model.writeBatch(packBatch(b.inputs, b.targets, cfg.vocab));
      const [lr, ss, bc2] = adamScalars(s, 1000, 1e-3);
      model.writeStep(lr, ss, bc2, stepSeed(0, s));
      model.trainProgram.submit(rt.device);
    };
    for (let s = 0; s < 2; s++) step(s);
    await rt.device.queue.onSubmittedWorkDone();
    // Two timed rounds, the faster one kept: the first round after a build is often slower (first touches).
    let best = { ms: Infinity, cpu: Infinity };
    for (let round = 0; round < 2; round++) {
      const c0 = cpuSeconds(), t0 = performance.now();
      for (let s = 2; s < 2 + steps; s++) step(s + round * steps);
      await rt.device.queue.onSubmittedWorkDone();
      const ms = (performance.now() - t0) / steps;
      if (ms < best.ms) best = { ms, cpu: (cpuSeconds() - c0) / steps };
    }
    return best;
  };
  const b0 = await time("bf16");
  const rows: SchemeTiming[] = [];
  for (const n of names) {
    const t = await time(n);
    const p = schemePair(n)!;
    rows.push({
      scheme: n,
      fwd: p.fwd,
      bwd: p.bwd,
      msPerStep: t.ms,
      cpuPerStep: t.cpu,
      ratioWall: 0,
      ratioCpu: 0,
    });
    if (v.packed) {
      const u = await time(n, true);
      rows.push({
        scheme: `${n} (packed)`,
        fwd: p.fwd,
        bwd: p.bwd,
        msPerStep: u.ms,
        cpuPerStep: u.cpu,
        ratioWall: 0,
        ratioCpu: 0,
      });
    }
  }
  const b1 = await time("bf16");
  const base = { ms: (b0.ms + b1.ms) / 2, cpu: (b0.cpu + b1.cpu) / 2 };
  for (const r of rows) {
    r.ratioWall = r.msPerStep / base.ms;
    r.ratioCpu = r.cpuPerStep / base.cpu;
  }
  if (v.json) {
    console.log(JSON.stringify({ adapter, bf16: { before: b0, after: b1 }, rows }));
    return;
  }
  console.log(
    `adapter ${adapter}; model ${cfg.layers}L d${cfg.dModel} ctx ${T} batch ${B}; ${steps} timed steps each`,
  );
  console.log(
    `bf16: ${b0.ms.toFixed(0)} / ${b1.ms.toFixed(0)} ms/step (before/after), ${
      base.cpu.toFixed(2)
    } CPU-s/step`,
  );
  console.log("scheme          fwd+bwd                      ms/step  CPU-s/step  ×bf16(wall)  ×bf16(CPU)");
  for (const r of rows) {
    console.log(
      `${r.scheme.padEnd(15)} ${`${r.fwd}+${r.bwd}`.padEnd(28)} ${r.msPerStep.toFixed(0).padStart(7)}  ${
        r.cpuPerStep.toFixed(2).padStart(10)
      }  ${r.ratioWall.toFixed(2).padStart(11)}  ${r.ratioCpu.toFixed(2).padStart(10)}`,
    );
  }
}

if (import.meta.main) await main(Deno.args);
