/**
 * Packed-FP4 path: the prep-and-pack kernel against the TS reference (dequantized values bit for bit,
 * packed codes × block scales decoding to the same values), and the packed GEMM against the f64 product
 * of the dequantized operands.
 */
import assert from "node:assert/strict";
import { getRuntime } from "../lib/engine/train.ts";
import { Program, type Runtime } from "../lib/gpu/runtime.ts";
import { Rng } from "../lib/engine/rng.ts";
import { grid1d } from "../kernels/engine/ops.ts";
import { fp4GemmGrid, fp4GemmKernel, packKernel } from "../kernels/schemes/fp4gemm.ts";
import { decodeElement } from "../lib/formats/quantize.ts";
import { ELEMENTS } from "../lib/formats/elements.ts";
import { unpackNibbles } from "../lib/formats/packing.ts";
import { BACKWARD, FORWARD } from "../lib/schemes/catalog.ts";
import { groupSize, refTensor } from "../lib/schemes/reference.ts";
import type { OperandQuant } from "../lib/schemes/types.ts";
import { compileOptions } from "../lib/schemes/compile.ts";
import { Linear, Scratch } from "../lib/layers/linear.ts";
import { resolveRecipe } from "../lib/schemes/resolve.ts";

const rng = new Rng(5);
const randn = (n: number, s = 1) => Float32Array.from({ length: n }, () => rng.normal() * s);

async function runKernel(rt: Runtime, code: string, bufs: GPUBuffer[], grid: [number, number, number]) {
  const d = rt.dispatch("k", rt.pipeline(`t:${code.length}:${code.slice(-200)}`, () => code), bufs, grid);
  Program.of(d).submit(rt.device);
  await rt.device.queue.onSubmittedWorkDone();
}

/** Packs [R, C] along `axis` on the GPU; returns dequantized values, codes, scales (as GPU buffers too). */
async function pack(
  rt: Runtime,
  op: OperandQuant,
  x: Float32Array,
  R: number,
  C: number,
  axis: 0 | 1,
  gemm: "dx" | "dw",
) {
  const len = axis === 1 ? C : R, rows = (R * C) / len;
  const s = rt.storage(x.byteLength, "s"), o = rt.storage(x.byteLength, "o"), un = rt.uniform(16, "u");
  const q = rt.storage(R * C / 2, "q"), sc = rt.storage((R * C / 32) * 4, "sc");
  rt.device.queue.writeBuffer(s, 0, x as Float32Array<ArrayBuffer>);
  rt.device.queue.writeBuffer(un, 0, new Uint32Array([0, 0, 0, 777]));
  await runKernel(
    rt,
    packKernel(op, R, C, axis, groupSize(op, len), gemm, false, 9),
    [s, o, un, q, sc],
    grid1d((R * C) / groupSize(op, len)),
  );
  const deq = new Float32Array(await rt.read(o));
  const codes = new Uint32Array(await rt.read(q, R * C / 2));
  const scales = new Float32Array(await rt.read(sc, (R * C / 32) * 4));
  s.destroy();
  o.destroy();
  un.destroy();
  return { deq, codes, scales, q, sc, rows, len };
}

Deno.test("schemes: prep-and-pack kernel = TS reference; codes × scales decode to the dequantized values", async () => {
  const { rt } = await getRuntime();
  const R = 64, C = 96;
  for (
    const [op, axis, gemm] of [
      [FORWARD.quest.x!, 1, "dx"],
      [FORWARD["rtn-absmax"].w!, 1, "dx"],
      [BACKWARD["sr-bwd"].dwDy!, 0, "dw"],
      [BACKWARD["rtn-bwd"].dxW!, 0, "dx"],
      [FORWARD["fp4-dge"].w!, 1, "dx"],
      [FORWARD["fp4-direct"].x!, 1, "dx"],
    ] as const
  ) {
    const x = randn(R * C);
    const p = await pack(rt, op, x, R, C, axis, gemm);
    const want = refTensor(op, x, R, C, axis, 777, 9, gemm);
    const nib = unpackNibbles(p.codes, R * C);
    for (let r = 0; r < p.rows; r++) {
      for (let k = 0; k < p.len; k++) {
        const i = axis === 1 ? r * C + k : k * C + r;
        assert.equal(p.deq[i], want.v[i], `deq ${i}`);
        const dec = Math.fround(
          Math.fround(decodeElement(ELEMENTS.e2m1, nib[r * p.len + k]) * 2 ** -14) *
            p.scales[r * (p.len / 32) + (k >> 5)],
        );
        assert.equal(dec, want.v[i], `decoded ${r},${k}`);
      }
    }
    p.q.destroy();
    p.sc.destroy();
  }
});

Deno.test("schemes: packed FP4 GEMM = f64 product of the dequantized operands", async () => {
  const { rt } = await getRuntime();
  const M = 64, N = 48, K = 96;
  const op = FORWARD.quest.x!;
  const a = await pack(rt, op, randn(M * K), M, K, 1, "dx");
  const b = await pack(rt, op, randn(N * K), N, K, 1, "dx");
  for (const add of [false, true]) {
    const D = randn(M * N);
    const c = rt.storage(M * N * 4, "c"), d = rt.storage(M * N * 4, "d");
    rt.device.queue.writeBuffer(d, 0, D as Float32Array<ArrayBuffer>);
    const bufs = [a.q, a.sc, b.q, b.sc, c, ...(add ? [d] : [])];
    await runKernel(rt, fp4GemmKernel(M, N, K, add), bufs, fp4GemmGrid(M, N));
    const got = new Float32Array(await rt.read(c));
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = add ? D[m * N + n] : 0, mag = Math.abs(s);
        for (let k = 0; k < K; k++) {
          s += a.deq[m * K + k] * b.deq[n * K + k];
          mag += Math.abs(a.deq[m * K + k] * b.deq[n * K + k]);
        }
        assert.ok(
          Math.abs(got[m * N + n] - s) <= 1e-6 * mag + 1e-30,
          `C[${m},${n}] ${got[m * N + n]} vs ${s}`,
        );
      }
    }
    c.destroy();
    d.destroy();
  }
});

Deno.test("schemes: quartet linear layer, packed FP4 GEMMs = unpacked f32 GEMMs (Y, dX, dW)", async () => {
  const { rt } = await getRuntime();
  const M = 64, inF = 64, outF = 32;
  const step = rt.uniform(16, "step");
  rt.device.queue.writeBuffer(step, 0, new Uint32Array([0, 0, 0, 4242]));
  const X = randn(M * inF), W = randn(outF * inF, 0.1), dY = randn(M * outF, 1e-3);
  const up = (a: Float32Array) => {
    const b = rt.storage(a.byteLength, "t");
    rt.device.queue.writeBuffer(b, 0, a as Float32Array<ArrayBuffer>);
    return b;
  };
  const outs: Float32Array[][] = [];
  const saved = compileOptions.packed;
  for (const packed of [false, true]) {
    compileOptions.packed = packed;
    const scheme = resolveRecipe({ fwd: "quest", bwd: "rtn-bwd" });
    const lin = new Linear(rt, {
      name: `p${packed}`,
      M,
      inF,
      outF,
      scheme,
      salt: 1,
      stepUniform: step,
      scratch: new Scratch(rt),
      textures: false,
    });
    const xb = up(X), wb = up(W), yb = up(new Float32Array(M * outF)), dyb = up(dY);
    const dxb = up(new Float32Array(M * inF)), dwb = up(new Float32Array(outF * inF));
    const prog = new Program();
    lin.forward(prog, { buffer: xb }, { buffer: wb }, { buffer: yb });
    lin.backward(prog, { buffer: dyb }, { buffer: xb }, { buffer: wb }, { buffer: dxb }, { buffer: dwb });
    assert.equal(prog.items.some((it) => "label" in it && / fp4$/.test(it.label)), packed);
    prog.submit(rt.device);
    outs.push([
      new Float32Array(await rt.read(yb)),
      new Float32Array(await rt.read(dxb)),
      new Float32Array(await rt.read(dwb)),
    ]);
    for (const b of [xb, wb, yb, dyb, dxb, dwb]) b.destroy();
  }
  compileOptions.packed = saved;
  for (const [t, name] of ["Y", "dX", "dW"].entries()) {
    const [a, b] = [outs[0][t], outs[1][t]];
    const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (let i = 0; i < a.length; i++) {
      assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * scale, `${name}[${i}] ${a[i]} vs ${b[i]}`);
    }
  }
  step.destroy();
});
