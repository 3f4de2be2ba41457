/**
 * Every operand quantizer of every scheme (run through the engine's prepare kernel and the post-pass)
 * against the TS reference of lib/schemes/reference.ts, bit for bit on random tensors.
 */
import assert from "node:assert/strict";
import { getRuntime } from "../lib/engine/train.ts";
import { Program } from "../lib/gpu/runtime.ts";
import { grid1d } from "../kernels/engine/ops.ts";
import { gpuPrep } from "../kernels/schemes/run.ts";
import { postKernel, postPrepWgsl } from "../kernels/schemes/prep.ts";
import { BACKWARD, FORWARD } from "../lib/schemes/catalog.ts";
import { postGroup, refPost, refTensor } from "../lib/schemes/reference.ts";
import type { OperandQuant } from "../lib/schemes/types.ts";
import { Rng } from "../lib/engine/rng.ts";

const rng = new Rng(7);
/** Normal values with a few heavy outliers (exercise clipping, masks, OCC). */
function data(n: number, s = 1): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const x = rng.normal() * s;
    return rng.float() < 0.01 ? x * 20 : x;
  });
}

function sameBits(got: Float32Array, want: Float32Array, what: string): void {
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      assert.fail(`${what}: element ${i}: got ${got[i]}, want ${want[i]}`);
    }
  }
}

function closeRel(got: Float32Array, want: Float32Array, tol: number, what: string): void {
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.max(1e-30, Math.abs(want[i]));
    if (!(e <= tol)) assert.fail(`${what}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

/** Every distinct operand of the catalogue with the roles it is used in. */
function operands(): { name: string; op: OperandQuant; fwd: boolean; gemm: "dx" | "dw" }[] {
  const seen = new Map<string, { name: string; op: OperandQuant; fwd: boolean; gemm: "dx" | "dw" }>();
  const add = (name: string, op: OperandQuant | undefined, fwd: boolean, gemm: "dx" | "dw") => {
    if (!op) return;
    // The gemm only matters for per-step signs; forward operands are also exercised down columns below.
    const k = JSON.stringify(op) + (op.hadamard?.signs === "per-step" ? gemm : "");
    if (!seen.has(k)) seen.set(k, { name, op, fwd, gemm });
  };
  for (const h of Object.values(FORWARD)) {
    add(`${h.label}.x`, h.x, true, "dx");
    add(`${h.label}.w`, h.w, true, "dx");
    for (const [m, o] of Object.entries(h.modules ?? {})) {
      add(`${h.label}.${m}.x`, o!.x, true, "dx");
      add(`${h.label}.${m}.w`, o!.w, true, "dx");
    }
  }
  for (const h of Object.values(BACKWARD)) {
    add(`${h.label}.dxDy`, h.dxDy, false, "dx");
    add(`${h.label}.dwX`, h.dwX, false, "dw");
  }
  return [...seen.values()];
}

Deno.test("schemes: every operand quantizer equals the TS reference bit for bit (GPU)", async () => {
  const { rt } = await getRuntime();
  const R = 64, C = 128, Cr = 96; // 96: row groups of a non-power-of-two length (Hadamard falls back to 32)
  const list = operands();
  assert.ok(list.length > 30, `catalogue has ${list.length} distinct operands`);
  for (const [i, { name, op, fwd, gemm }] of list.entries()) {
    const axis: 0 | 1 = fwd && (op.clip || op.scale.granularity === "row") ? 1 : (i % 2 as 0 | 1);
    const cols = fwd && op.scale.granularity === "row" && i % 2 ? Cr : C;
    const x = data(R * cols, fwd ? 1 : 1e-4);
    const step = 0x1234567 + i, salt = 0x55 + i;
    const got = await gpuPrep(rt, op, x, R, cols, axis, step, salt, gemm);
    const want = refTensor(op, x, R, cols, axis, step, salt, gemm);
    sameBits(got.v, want.v, `${name} values`);
    if (op.estimator === "dge") closeRel(got.g, want.g, 1e-6, `${name} DGE multiplier`);
    else if (op.estimator === "trust") sameBits(got.g, want.g, `${name} mask`);
  }
});

Deno.test("schemes: gradient post-pass (mask, inverse Hadamard) equals the TS reference", async () => {
  const { rt } = await getRuntime();
  const R = 32, C = 128;
  for (const label of ["quest", "quest-int4", "fp4-dge-occ", "rtn-absmax"]) {
    const op = FORWARD[label].w!;
    const P = postGroup(op, C);
    const d = data(R * C),
      g = Float32Array.from({ length: R * C }, (_, i) => (i % 7 === 0 ? 0 : 1 + (i % 3) / 4));
    const code = postKernel(R, C, P, postPrepWgsl(op, C), true);
    const db = rt.storage(d.byteLength, "d"), gb = rt.storage(d.byteLength, "g"), un = rt.uniform(16, "u");
    rt.device.queue.writeBuffer(db, 0, d as Float32Array<ArrayBuffer>);
    rt.device.queue.writeBuffer(gb, 0, g as Float32Array<ArrayBuffer>);
    const disp = rt.dispatch(
      "post",
      rt.pipeline(`testpost:${label}`, () => code),
      [db, un, gb],
      grid1d((R * C) / P),
    );
    Program.of(disp).submit(rt.device);
    const got = new Float32Array(await rt.read(db, d.byteLength));
    const want = new Float32Array(R * C);
    for (let o = 0; o < R * C; o += P) want.set(refPost(op, d.subarray(o, o + P), g.subarray(o, o + P)), o);
    sameBits(got, want, `${label} post`);
    for (const b of [db, gb, un]) b.destroy();
  }
});
