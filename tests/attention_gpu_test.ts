/**
 * The WGSL path of the quantized attention recipes (lib/attention/gpu.ts over kernels/attention) against the
 * TS reference (lib/attention/reference.ts), per (sequence, head), causal and bidirectional.
 *
 * Tolerances and why: the operand quantizers are bit-exact (same QuantSpec, same group order), but the
 * softmax uses WGSL exp/log (llvmpipe's, not correctly rounded like JS Math.exp) and the GPU folds the online
 * rescaling exp(m_t − m)/l into P before the PV GEMM instead of rescaling the accumulator per tile; a P̃ value
 * within an ulp of a rounding boundary could then land on the other side. So outputs and gradients are
 * compared by relative L2 against the reference: at most 1e-5 (measured 0.9–1.4e-7 on these inputs: no
 * boundary flips), against the recipes' own error of 3e-3 (bf16) to 3e-1 (sage3-mxfp4).
 */
import assert from "node:assert/strict";
import { Program, sharedRuntime } from "../lib/gpu/runtime.ts";
import { QuantAttentionCore } from "../lib/attention/gpu.ts";
import { attentionRecipe } from "../lib/attention/recipes.ts";
import { compare, headBackward, headForward, type HeadProblem } from "../lib/attention/reference.ts";
import { gauss } from "../lib/formats/testdata.ts";

async function check(
  name: string,
  batch: number,
  heads: number,
  T: number,
  d: number,
  causal: boolean,
  keys?: number,
) {
  const { rt } = await sharedRuntime();
  const r = attentionRecipe(name);
  const hd = d / heads, M = batch * T, Z = batch * heads;
  const qkvH = new Float32Array(M * 3 * d).map((_, i) =>
    gauss(T + d, i) + ((i % (3 * d)) >= d && (i % (3 * d)) < 2 * d && i % 7 === 3 ? 4 : 0)
  );
  const datt = new Float32Array(M * d).map((_, i) => gauss(5, i));
  const bufs = new Map<string, GPUBuffer>();
  const sc = {
    get: (k: string, n: number) => {
      if (!bufs.has(k)) bufs.set(k, rt.storage(n * 4, k));
      return bufs.get(k)!;
    },
    tx: (_p: Program, _k: string, b: GPUBuffer) => b,
  };
  const core = new QuantAttentionCore(rt, r, { name: "t", batch, T, d, heads, causal, keys }, sc);
  const qkv = rt.storage(M * 3 * d * 4, "qkv"),
    p = rt.storage(Z * T * T * 4, "p"),
    att = rt.storage(M * d * 4, "att");
  const dO = rt.storage(M * d * 4, "datt"),
    dp = rt.storage(Z * T * T * 4, "dp"),
    dqkv = rt.storage(M * 3 * d * 4, "dqkv");
  rt.device.queue.writeBuffer(qkv, 0, qkvH);
  rt.device.queue.writeBuffer(dO, 0, datt);
  const prog = new Program();
  core.forward(prog, qkv, p, att);
  if (r.backward) core.backward(prog, qkv, p, att, dO, dp, dqkv);
  prog.submit(rt.device);
  const o = new Float32Array(await rt.read(att)), g = new Float32Array(await rt.read(dqkv));
  const tol = 1e-5; // measured: 0.9–1.4e-7 on every head and recipe
  const head = (src: Float32Array, ld: number, off: number, b: number, h: number) => {
    const x = new Float32Array(T * hd);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < hd; j++) x[t * hd + j] = src[(b * T + t) * ld + off + h * hd + j];
    }
    return x;
  };
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const pr: HeadProblem = {
        q: head(qkvH, 3 * d, 0, b, h),
        k: head(qkvH, 3 * d, d, b, h),
        v: head(qkvH, 3 * d, 2 * d, b, h),
        T,
        hd,
        causal,
        keys,
      };
      const fw = headForward(r, pr);
      const c = compare(head(o, d, 0, b, h), fw.o);
      assert.ok(c.relL2 < tol, `${name} fwd b${b} h${h}: relL2 ${c.relL2}`);
      if (!r.backward) continue;
      const gr = headBackward(r, pr, fw, head(datt, d, 0, b, h));
      for (const [k, off] of [["dq", 0], ["dk", d], ["dv", 2 * d]] as const) {
        const e = compare(head(g, 3 * d, off, b, h), gr[k]);
        assert.ok(e.relL2 < tol, `${name} ${k} b${b} h${h}: relL2 ${e.relL2}`);
      }
    }
  }
  for (const x of [qkv, p, att, dO, dp, dqkv, core.qkvq, ...bufs.values()]) rt.free(x);
}

Deno.test("GPU sagebwd (causal, hd 32) forward and backward match the TS reference", async () => {
  await check("sagebwd", 2, 2, 64, 64, true);
});
Deno.test("GPU sagebwd-int8-dp and bf16 (causal, hd 16) match the TS reference", async () => {
  await check("sagebwd-int8-dp", 1, 2, 32, 32, true);
  await check("bf16", 1, 2, 32, 32, true);
});
Deno.test("GPU sage3 and its ablations (causal hd 64; bidirectional with padding hd 16) match the TS reference", async () => {
  for (const n of ["sage3", "sage3-mxfp4", "sage3-direct-p", "sage3-no-smooth"]) {
    await check(n, 1, 2, 64, 128, true);
  }
  await check("sage3", 2, 2, 48, 32, false, 40);
});
