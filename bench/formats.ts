/**
 * `deno task bench formats [--n N] [--reps R] [--rounds K] [--formats a,b,...] [--json FILE]`
 *
 * Quantize+dequantize throughput of the WGSL pipelines on the adapter, in elements per second and per
 * CPU-second of this process (llvmpipe's worker threads included), beside a plain copy kernel measured
 * in the same rounds (ratio), and the single-threaded TS reference. Each GPU sample records R runs into
 * one command buffer with one submit and one await, so Deno's ~11 ms completion floor is amortized.
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { Program, type Runtime, sharedRuntime } from "../lib/gpu/runtime.ts";
import { specFor, withClip } from "../lib/formats/presets.ts";
import { quantizeTensor, type QuantSpec } from "../lib/formats/scaling.ts";
import { gauss } from "../lib/formats/testdata.ts";
import { fusable, GpuQuantizer } from "../kernels/formats/run.ts";

/** Benchmark cases by name. */
export const BENCH_CASES: Record<string, () => QuantSpec> = {
  e2m1: () => specFor("e2m1"),
  e4m3: () => specFor("e4m3"),
  int8: () => specFor("int8"),
  bf16: () => specFor("bf16"),
  fp16: () => specFor("fp16"),
  "e2m1-sr": () => ({ ...specFor("e2m1"), rounding: "stochastic", seed: 1 }),
  mxfp4: () => specFor("mxfp4"),
  mxfp8_e4m3: () => specFor("mxfp8_e4m3"),
  nvfp4: () => specFor("nvfp4"),
  "quartet-fwd (h32+quest)": () => ({ ...withClip(specFor("mxfp4"), "quest"), hadamard: { size: 32 } }),
  "mxfp4-h128-sr": () => ({
    ...specFor("mxfp4"),
    hadamard: { size: 128, signSeed: 1 },
    rounding: "stochastic",
    seed: 2,
  }),
};

/** One measured row. */
export interface BenchRow {
  /** Case label ("[fused]" / "[multipass]" give the GPU kernel path). */
  name: string;
  /** Median elements per wall second (GPU pipeline, all passes). */
  elemsPerSec: number;
  /** Median elements per CPU-second of the process. */
  elemsPerCpuSec: number;
  /** elemsPerSec / copy elemsPerSec of the same rounds. */
  ratioVsCopy: number;
  /** Single-threaded TS reference, elements per second. */
  tsElemsPerSec: number;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const cpuSec = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Times `reps` encodes of `record` in one submit: [wall s, cpu s]. */
async function timeGpu(
  device: GPUDevice,
  reps: number,
  record: (enc: GPUCommandEncoder) => void,
): Promise<[number, number]> {
  const enc = device.createCommandEncoder();
  for (let r = 0; r < reps; r++) record(enc);
  const c0 = cpuSec(), t0 = performance.now();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  return [(performance.now() - t0) / 1000, cpuSec() - c0];
}

/** A plain copy kernel O[i] = X[i], one f32 per invocation (the same thread shape as the round pass). */
function copyKernel(
  rt: Runtime,
  src: GPUBuffer,
  dst: GPUBuffer,
  n: number,
): (enc: GPUCommandEncoder) => void {
  const code = `@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> O: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x + g.y * ${65535 * 64}u;
  if (i < ${n}u) { O[i] = X[i]; }
}`;
  const wgs = Math.ceil(n / 64);
  const prog = Program.of(
    rt.dispatch("copy", rt.pipeline(`bench copy:${n}`, () => code), [src, dst], [
      Math.min(wgs, 65535),
      Math.ceil(wgs / 65535),
      1,
    ]),
  );
  return (enc) => prog.encode(enc);
}

/** Runs the benchmark and prints a table; returns the rows. */
export async function main(args: string[]): Promise<BenchRow[]> {
  const { values: v } = parseArgs({
    args,
    options: {
      n: { type: "string", default: String(1 << 22) },
      reps: { type: "string", default: "4" },
      rounds: { type: "string", default: "3" },
      "ts-n": { type: "string", default: String(1 << 19) },
      formats: { type: "string" },
      json: { type: "string" },
    },
    strict: true,
  });
  const n = Number(v.n), reps = Number(v.reps), rounds = Number(v.rounds), tsN = Number(v["ts-n"]);
  const names = v.formats ? v.formats.split(",") : Object.keys(BENCH_CASES);
  for (const k of names) {
    if (!BENCH_CASES[k]) {
      throw new Error(`unknown bench case "${k}"; choose from ${Object.keys(BENCH_CASES).join(", ")}`);
    }
  }
  const { rt, adapter } = await sharedRuntime();
  const device = rt.device;
  const gpu = { adapter };
  const x = new Float32Array(n).map((_, i) => gauss(1, i));
  const qs = new Map<string, GpuQuantizer>();
  const keys: string[] = [];
  const caseOf = new Map<string, string>();
  for (const k of names) {
    const spec = BENCH_CASES[k]();
    // unit-scale elements: the fused kernel is the same one-invocation-per-element shape, so measure once
    const paths = fusable(spec) && spec.scale.granularity !== "none"
      ? ["fused", "multipass"] as const
      : ["multipass"] as const;
    for (const path of paths) {
      const key = paths.length > 1 ? `${k} [${path}]` : k;
      const q = await GpuQuantizer.create(spec, 1, n, {}, path); // values only: fake-quant
      q.upload(x);
      await q.run(x); // compile and warm up
      qs.set(key, q);
      keys.push(key);
      caseOf.set(key, k);
    }
  }
  const any = qs.get(keys[0])!;
  const dst = rt.storage(n * 4, "bench copy dst");
  const copy = copyKernel(rt, any.input, dst, n);
  await timeGpu(device, 1, copy);
  const wall = new Map<string, number[]>(), cpu = new Map<string, number[]>();
  for (const k of ["copy", ...keys]) {
    wall.set(k, []);
    cpu.set(k, []);
  }
  for (let r = 0; r < rounds; r++) {
    for (const k of ["copy", ...keys]) {
      const rec = k === "copy" ? copy : (enc: GPUCommandEncoder) => qs.get(k)!.encode(enc);
      const [w, c] = await timeGpu(device, reps, rec);
      wall.get(k)!.push((n * reps) / w);
      cpu.get(k)!.push((n * reps) / Math.max(c, 1e-9));
    }
  }
  const copyRate = median(wall.get("copy")!);
  const xs = x.subarray(0, tsN);
  const rows: BenchRow[] = [{
    name: "copy (f32, 1 per invocation)",
    elemsPerSec: copyRate,
    elemsPerCpuSec: median(cpu.get("copy")!),
    ratioVsCopy: 1,
    tsElemsPerSec: NaN,
  }];
  const tsRate = new Map<string, number>();
  for (const k of names) {
    const t0 = performance.now();
    quantizeTensor(xs, BENCH_CASES[k]());
    tsRate.set(k, tsN / ((performance.now() - t0) / 1000));
  }
  for (const k of keys) {
    const ts = tsRate.get(caseOf.get(k)!)!;
    const rate = median(wall.get(k)!);
    rows.push({
      name: k,
      elemsPerSec: rate,
      elemsPerCpuSec: median(cpu.get(k)!),
      ratioVsCopy: rate / copyRate,
      tsElemsPerSec: ts,
    });
  }
  for (const q of qs.values()) q.destroy();
  dst.destroy();
  const M = (r: number) => Number.isNaN(r) ? "—" : (r / 1e6).toFixed(1);
  console.log(
    `formats bench on ${gpu.adapter}; n = ${n}, ${reps} runs per submit, median of ${rounds} rounds; load ${
      Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
    }`,
  );
  console.log("| case | GPU M elem/s | M elem per CPU-s | ratio vs copy | TS reference M elem/s |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${M(r.elemsPerSec)} | ${M(r.elemsPerCpuSec)} | ${r.ratioVsCopy.toFixed(2)} | ${
        M(r.tsElemsPerSec)
      } |`,
    );
  }
  if (v.json) {
    await Deno.writeTextFile(
      v.json,
      JSON.stringify({ adapter: gpu.adapter, n, reps, rounds, rows }, null, 2),
    );
  }
  return rows;
}

if (import.meta.main) await main(Deno.args);
