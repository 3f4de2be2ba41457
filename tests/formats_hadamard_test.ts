/**
 * Hadamard transform (orthonormal, self-inverse, equal to the dense Sylvester matrix) and the fused
 * WGSL operand snippet (`WgslLib.operand`) composed into a test kernel: equal to the TS reference.
 */
import assert from "node:assert/strict";
import {
  HADAMARD_SIZES,
  hadamardForward,
  hadamardInverse,
  hadamardMatrix,
  hadamardSigns,
} from "../lib/formats/hadamard.ts";
import { specFor, withClip } from "../lib/formats/presets.ts";
import { quantizeTensor, type QuantSpec } from "../lib/formats/scaling.ts";
import { gauss } from "../lib/formats/testdata.ts";
import { WgslLib } from "../kernels/formats/wgsl.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { bitDiffs } from "../lib/formats/testdata.ts";

Deno.test("dense Sylvester Hadamard is orthonormal and symmetric (16..256)", () => {
  for (const n of HADAMARD_SIZES) {
    const h = hadamardMatrix(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += h[i * n + k] * h[j * n + k];
        assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-12, `n=${n} (${i},${j})`);
        assert.equal(h[i * n + j], h[j * n + i]);
      }
    }
  }
});

Deno.test("fast transform equals the dense matrix, preserves norms, and is self-inverse (with and without signs)", () => {
  for (const n of HADAMARD_SIZES) {
    const x = new Float32Array(4 * n).map((_, i) => gauss(n, i));
    const y = hadamardForward(x, n);
    const h = hadamardMatrix(n);
    for (let b = 0; b < 4; b++) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += h[i * n + k] * x[b * n + k];
        assert.ok(Math.abs(s - y[b * n + i]) < 1e-5, `n=${n}`);
      }
    }
    const nx = x.reduce((a, v) => a + v * v, 0), ny = y.reduce((a, v) => a + v * v, 0);
    assert.ok(Math.abs(nx - ny) / nx < 1e-6);
    // H is its own inverse: forward twice returns x; inverse(forward) returns x, also with random signs
    const twice = hadamardForward(y, n);
    const signs = hadamardSigns(n, 123);
    const back = hadamardInverse(hadamardForward(x, n, signs), n, signs);
    for (let i = 0; i < x.length; i++) {
      assert.ok(Math.abs(twice[i] - x[i]) < 1e-5, `twice n=${n}`);
      assert.ok(Math.abs(back[i] - x[i]) < 1e-5, `signed n=${n}`);
    }
    assert.ok(signs.some((s) => s < 0) && signs.some((s) => s > 0));
  }
});

/** Runs a test kernel that calls the fused operand function once per chunk. */
async function fused(spec: QuantSpec, x: Float32Array, tscale: number) {
  const { device } = await getGpu();
  const lib = new WgslLib();
  const q = lib.operand(spec, "qx");
  const L = q.len, chunks = x.length / L;
  const code = `${lib.source()}
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> O: array<f32>;
@group(0) @binding(2) var<storage, read_write> R: array<f32>;
@group(0) @binding(3) var<storage, read_write> S: array<u32>;
@group(0) @binding(4) var<storage, read_write> M: array<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= ${chunks}u) { return; }
  var v: array<f32, ${L}>;
  for (var j = 0u; j < ${L}u; j = j + 1u) { v[j] = X[c * ${L}u + j]; }
  var sc: array<Fp4Scale, ${q.groups}>;
  var m: array<u32, ${q.maskWords}>;
  ${q.quantize}(&v, &sc, &m, ${spec.seed ?? 0}u, c * ${L}u, bitcast<f32>(${
    new Uint32Array(Float32Array.of(tscale).buffer)[0]
  }u));
  for (var j = 0u; j < ${L}u; j = j + 1u) { O[c * ${L}u + j] = v[j]; }
  ${q.unrotate ? `${q.unrotate}(&v);` : ""}
  for (var j = 0u; j < ${L}u; j = j + 1u) { R[c * ${L}u + j] = v[j]; }
  for (var b = 0u; b < ${q.groups}u; b = b + 1u) { S[c * ${q.groups}u + b] = sc[b].code; }
  for (var w = 0u; w < ${q.maskWords}u; w = w + 1u) { M[c * ${q.maskWords}u + w] = m[w]; }
}`;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const n = x.length, ns = chunks * q.groups, nm = chunks * q.maskWords;
  const bufs = [n, n, n, ns, nm].map((k) => device.createBuffer({ size: Math.max(16, k * 4), usage }));
  device.queue.writeBuffer(bufs[0], 0, x as Float32Array<ArrayBuffer>);
  const pipe = device.createComputePipeline({
    layout: "auto",
    compute: { module: device.createShaderModule({ code }), entryPoint: "main" },
  });
  const bg = device.createBindGroup({
    layout: pipe.getBindGroupLayout(0),
    entries: bufs.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const total = (3 * n + ns + nm) * 4;
  const rb = device.createBuffer({ size: total, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(0, bg);
  pass.dispatchWorkgroups(Math.ceil(chunks / 64));
  pass.end();
  let off = 0;
  for (const [i, k] of [[1, n], [2, n], [3, ns], [4, nm]]) {
    enc.copyBufferToBuffer(bufs[i], 0, rb, off, k * 4);
    off += k * 4;
  }
  device.queue.submit([enc.finish()]);
  await rb.mapAsync(GPUMapMode.READ);
  const all = rb.getMappedRange().slice(0);
  rb.destroy();
  for (const b of bufs) b.destroy();
  return {
    rotated: new Float32Array(all, 0, n),
    back: new Float32Array(all, n * 4, n),
    scaleCodes: new Uint32Array(all, 8 * n, ns),
    maskWords: new Uint32Array(all, 8 * n + ns * 4, nm),
  };
}

Deno.test("fused WGSL operand snippet (rotate + scale + round + mask) equals the TS reference", async () => {
  const x = new Float32Array(1 << 14).map((_, i) => gauss(4, i) * (i % 97 === 0 ? 30 : 1));
  const cases: [string, QuantSpec][] = [
    ["quartet fwd: H32 + QuEST", { ...withClip(specFor("mxfp4"), "quest"), hadamard: { size: 32 } }],
    ["H32 random signs + OCP + SR", {
      ...specFor("mxfp4"),
      hadamard: { size: 32, signSeed: 9 },
      rounding: "stochastic",
      seed: 5,
    }],
    ["H128 over 4 blocks of 32, quest-round", {
      ...withClip(specFor("mxfp4"), "quest-round"),
      hadamard: { size: 128 },
    }],
    ["nvfp4 (no rotation)", specFor("nvfp4")],
    ["e4m3 unit scale", specFor("e4m3")],
  ];
  for (const [name, spec] of cases) {
    const ref = quantizeTensor(x, spec, { rotateBack: false });
    const back = quantizeTensor(x, spec);
    const g = await fused(spec, x, ref.tensorScale);
    assert.deepEqual(bitDiffs(g.rotated, ref.values), [], `${name}: rotated values`);
    assert.deepEqual(bitDiffs(g.back, back.values), [], `${name}: rotated back`);
    if (spec.scale.granularity !== "none") {
      assert.deepEqual(Array.from(g.scaleCodes), Array.from(ref.scaleCodes), name);
    }
    for (let i = 0; i < x.length; i++) {
      const L = Math.max(spec.scale.block ?? 1, spec.hadamard?.size ?? 1);
      const w = Math.floor(i / L) * Math.ceil(L / 32) + Math.floor((i % L) / 32);
      const bit = (g.maskWords[w] >>> (i % L % 32)) & 1;
      if (bit !== ref.mask[i]) assert.fail(`${name}: mask ${i}`);
    }
  }
});
