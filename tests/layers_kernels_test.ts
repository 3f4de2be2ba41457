/** The DiT layer kernels (kernels/engine/ops.ts) against their float64 references (lib/layers/reference.ts). */
import assert from "node:assert/strict";
import { Program, type Runtime, sharedRuntime } from "../lib/gpu/runtime.ts";
import * as K from "../kernels/engine/ops.ts";
import * as R from "../lib/layers/reference.ts";
import { Rng } from "../lib/engine/rng.ts";

const rng = new Rng(77);
const randn = (n: number, s = 1) => Float32Array.from({ length: n }, () => rng.normal() * s);

/** Runs one kernel over `n` invocations with `inputs` bound in order; returns every buffer after. */
async function run(rt: Runtime, code: string, inputs: Float32Array[], n: number): Promise<Float32Array[]> {
  const bufs = inputs.map((x) => {
    const b = rt.storage(x.byteLength, "t");
    rt.device.queue.writeBuffer(b, 0, x as Float32Array<ArrayBuffer>);
    return b;
  });
  Program.of(rt.dispatch("k", rt.pipeline(code, () => code), bufs, K.grid1d(n))).submit(rt.device);
  const out: Float32Array[] = [];
  for (let i = 0; i < bufs.length; i++) {
    out.push(new Float32Array(await rt.read(bufs[i], inputs[i].byteLength)));
    rt.free(bufs[i]);
  }
  return out;
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    assert.ok(e <= tol, `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

Deno.test("bias add and bias gradient", async () => {
  const { rt } = await sharedRuntime();
  const M = 24, N = 16, Y = randn(M * N), b = randn(N);
  const [y] = await run(rt, K.biasAdd(M, N), [Y, b], M * N / 4);
  close(y, R.biasAdd(Y, b, M, N), 1e-6, "bias add");
  const [, db] = await run(rt, K.biasGrad(M, N), [Y, new Float32Array(N)], N / 4);
  close(db, R.biasGrad(Y, M, N), 1e-5, "bias grad");
});

Deno.test("bidirectional softmax (with padded keys masked) and its backward", async () => {
  const { rt } = await sharedRuntime();
  const Z = 3, T = 16, S = randn(Z * T * T, 2);
  for (const keys of [T, 13]) {
    const [p] = await run(rt, K.softmaxFull(Z, T, keys), [S.slice()], Z * T);
    close(p, R.softmaxMasked(S, Z, T, keys), 1e-6, `softmax keys=${keys}`);
  }
  const P = Float32Array.from(R.softmaxMasked(S, Z, T)), dP = randn(Z * T * T);
  const [, ds] = await run(rt, K.softmaxFullBwd(Z, T), [P, dP], Z * T);
  close(ds, R.softmaxBwdFull(P, dP, Z, T), 1e-5, "softmax bwd");
});

Deno.test("LayerNorm + adaLN modulation: forward, shift/scale gradients, input gradient (accumulating)", async () => {
  const { rt } = await sharedRuntime();
  const B = 2, T = 8, D = 32, stride = 6 * D, eps = 1e-6, shiftAt = 3 * D, scaleAt = 4 * D;
  const X = randn(B * T * D, 2), mod = randn(B * stride, 0.5), dY = randn(B * T * D);
  const [, , y, st] = await run(rt, K.lnModFwd(B, T, D, eps, stride, shiftAt, scaleAt), [
    X,
    mod,
    new Float32Array(B * T * D),
    new Float32Array(2 * B * T),
  ], B * T);
  close(y, R.lnModFwd(X, mod, B, T, D, eps, stride, shiftAt, scaleAt), 1e-5, "ln mod fwd");
  const want = R.lnModBwd(dY, X, mod, B, T, D, eps, stride, scaleAt);
  const [, , , dm] = await run(rt, K.lnModDmod(B, T, D, stride, shiftAt, scaleAt), [
    dY,
    X,
    st,
    new Float32Array(B * stride),
  ], B * D / 4);
  for (let b = 0; b < B; b++) {
    close(
      dm.subarray(b * stride + shiftAt, b * stride + shiftAt + D),
      want.dShift.subarray(b * D, (b + 1) * D),
      1e-5,
      "dshift",
    );
    close(
      dm.subarray(b * stride + scaleAt, b * stride + scaleAt + D),
      want.dScale.subarray(b * D, (b + 1) * D),
      1e-5,
      "dscale",
    );
  }
  const res = randn(B * T * D);
  const [, , , , dx] = await run(rt, K.lnModBwd(B, T, D, stride, scaleAt, true), [
    dY,
    X,
    mod,
    st,
    res.slice(),
  ], B * T);
  close(dx, want.dX.map((v, i) => v + res[i]), 1e-4, "ln mod dx (+ residual)");
});

Deno.test("GELU-tanh and SiLU forward and backward", async () => {
  const { rt } = await sharedRuntime();
  const n = 256, h = randn(n, 3), dA = randn(n);
  const [, g] = await run(rt, K.geluFwd(n), [h, new Float32Array(n)], n / 4);
  close(g, R.gelu(h), 1e-6, "gelu");
  const [, , dg] = await run(rt, K.geluBwd(n), [h, dA, new Float32Array(n)], n / 4);
  close(dg, R.geluBwd(h, dA), 1e-5, "gelu bwd");
  const [, s] = await run(rt, K.siluFwd(n), [h, new Float32Array(n)], n / 4);
  close(s, R.silu(h), 1e-6, "silu");
  const prev = randn(n);
  const [, , ds] = await run(rt, K.siluBwd(n, true), [h, dA, prev.slice()], n / 4);
  close(ds, R.siluBwd(h, dA).map((v, i) => v + prev[i]), 1e-5, "silu bwd (accumulating)");
});

Deno.test("gated residual forward and backward (dH, dgate)", async () => {
  const { rt } = await sharedRuntime();
  const B = 2, T = 8, D = 16, stride = 6 * D, at = 2 * D;
  const X = randn(B * T * D), mod = randn(B * stride), H = randn(B * T * D), dY = randn(B * T * D);
  const want = R.gate(X, mod, H, dY, B, T, D, stride, at);
  const [, , , y] = await run(
    rt,
    K.gateFwd(B, T, D, stride, at),
    [X, mod, H, new Float32Array(B * T * D)],
    B * T * D / 4,
  );
  close(y, want.Y, 1e-6, "gate fwd");
  const [, , dh] = await run(
    rt,
    K.gateBwdH(B, T, D, stride, at),
    [dY, mod, new Float32Array(B * T * D)],
    B * T * D / 4,
  );
  close(dh, want.dH, 1e-6, "gate dH");
  const [, , dm] = await run(
    rt,
    K.gateBwdGate(B, T, D, stride, at),
    [dY, H, new Float32Array(B * stride)],
    B * D / 4,
  );
  for (let b = 0; b < B; b++) {
    close(
      dm.subarray(b * stride + at, b * stride + at + D),
      want.dGate.subarray(b * D, (b + 1) * D),
      1e-5,
      "dgate",
    );
  }
});

Deno.test("masked squared error: loss rows, gradient, padding rows zero; in-place add", async () => {
  const { rt } = await sharedRuntime();
  const M = 16, N = 8, T = 8, real = 6, Y = randn(M * N), E = randn(M * N);
  const want = R.mseRows(Y, E, M, N, 0.01, T, real);
  const [dy, , loss] = await run(rt, K.mseRows(M, N, true, 0.01, T, real), [
    Y.slice(),
    E,
    new Float32Array(M),
  ], M);
  close(loss, want.loss, 1e-5, "mse loss");
  close(dy, want.dY, 1e-6, "mse grad");
  const A = randn(64), Bv = randn(64);
  const [sum] = await run(rt, K.addInto(64), [A.slice(), Bv], 16);
  close(sum, A.map((v, i) => v + Bv[i]), 1e-7, "add into");
});
