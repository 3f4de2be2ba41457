/**
 * Smaller pieces: WGSL packing and BF16 helpers against TS, the showcase table and the benchmark
 * (smoke runs on small sizes).
 */
import assert from "node:assert/strict";
import { WgslLib } from "../kernels/formats/wgsl.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { packNibbles } from "../lib/formats/packing.ts";
import { ELEMENTS } from "../lib/formats/elements.ts";
import { quantizeElement } from "../lib/formats/quantize.ts";
import { rngU32, rngUniform } from "../lib/formats/rng.ts";
import { mixedValues } from "../lib/formats/testdata.ts";
import { formatsTable } from "../cli/formats_showcase.ts";
import { main as bench } from "../bench/formats.ts";

Deno.test("WGSL fp4_pack8 / fp4_nibble and round_bf16 / round_bf16_sr equal the TS functions", async () => {
  const { device } = await getGpu();
  const lib = new WgslLib();
  lib.packing();
  lib.bf16();
  lib.rng();
  const n = 1 << 12;
  const code = `${lib.source()}
@group(0) @binding(0) var<storage, read> C: array<u32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> W: array<u32>;
@group(0) @binding(3) var<storage, read_write> B: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x;
  if (i < ${n / 8}u) {
    var c: array<u32, 8>;
    for (var k = 0u; k < 8u; k = k + 1u) { c[k] = C[i * 8u + k]; }
    let w = fp4_pack8(c);
    W[i] = w;
    var ok = 1u;
    for (var k = 0u; k < 8u; k = k + 1u) { if (fp4_nibble(w, k) != (c[k] & 0xfu)) { ok = 0u; } }
    W[${n / 8}u + i] = ok;
  }
  if (i < ${n}u) {
    B[2u * i] = round_bf16(X[i]);
    B[2u * i + 1u] = round_bf16_sr(X[i], fp4_rng_uniform(9u, i));
  }
}`;
  const codes = Uint32Array.from({ length: n }, (_, i) => rngU32(4, i) & 0xff);
  const x = mixedValues(n, 8, ELEMENTS.bf16);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const mk = (bytes: number) => device.createBuffer({ size: bytes, usage });
  const bufs = [mk(n * 4), mk(n * 4), mk((n / 8) * 8), mk(n * 8)];
  device.queue.writeBuffer(bufs[0], 0, codes);
  device.queue.writeBuffer(bufs[1], 0, x as Float32Array<ArrayBuffer>);
  const pipe = device.createComputePipeline({
    layout: "auto",
    compute: { module: device.createShaderModule({ code }), entryPoint: "main" },
  });
  const bg = device.createBindGroup({
    layout: pipe.getBindGroupLayout(0),
    entries: bufs.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const rb = device.createBuffer({
    size: (n / 8) * 8 + n * 8,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(0, bg);
  pass.dispatchWorkgroups(n / 64);
  pass.end();
  enc.copyBufferToBuffer(bufs[2], 0, rb, 0, (n / 8) * 8);
  enc.copyBufferToBuffer(bufs[3], 0, rb, (n / 8) * 8, n * 8);
  device.queue.submit([enc.finish()]);
  await rb.mapAsync(GPUMapMode.READ);
  const all = rb.getMappedRange().slice(0);
  rb.destroy();
  for (const b of bufs) b.destroy();
  const w = new Uint32Array(all, 0, n / 4);
  assert.deepEqual(Array.from(w.subarray(0, n / 8)), Array.from(packNibbles(codes)));
  assert.ok(w.subarray(n / 8).every((v) => v === 1));
  const b = new Float32Array(all, (n / 8) * 8, 2 * n);
  for (let i = 0; i < n; i++) {
    const rne = quantizeElement(ELEMENTS.bf16, x[i]),
      sr = quantizeElement(ELEMENTS.bf16, x[i], rngUniform(9, i));
    for (const [got, want] of [[b[2 * i], rne], [b[2 * i + 1], sr]]) {
      if (!Object.is(got, Math.fround(want)) && !(Number.isNaN(got) && Number.isNaN(want))) {
        assert.fail(`bf16(${x[i]}): gpu ${got}, ts ${want}`);
      }
    }
  }
});

Deno.test("showcase table: one row per format and preset with sane errors", async () => {
  const want = ["e2m1", "fp16", "mxfp4", "nvfp4"];
  const rows = await formatsTable(1 << 12, want);
  assert.deepEqual(rows.map((r) => r.name), want);
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  assert.equal(by.e2m1.gridSize, 15);
  assert.ok(by.fp16.relMse < 1e-6 && by.mxfp4.relMse < 0.03 && by.nvfp4.relMse < by.mxfp4.relMse);
});

Deno.test("benchmark smoke run: every row has positive rates", async () => {
  const rows = await bench([
    "--n",
    "8192",
    "--reps",
    "1",
    "--rounds",
    "1",
    "--ts-n",
    "1024",
    "--formats",
    "e2m1,mxfp4",
  ]);
  assert.deepEqual(rows.map((r) => r.name), [
    "copy (f32, 1 per invocation)",
    "e2m1",
    "mxfp4 [fused]",
    "mxfp4 [multipass]",
  ]);
  for (const r of rows) assert.ok(r.elemsPerSec > 0 && r.elemsPerCpuSec > 0 && r.ratioVsCopy > 0, r.name);
});
