/**
 * The WGSL path of the quantized attention recipes (lib/attention/gpu.ts over kernels/attention) against the
 * TS reference (lib/attention/reference.ts), per (sequence, head), causal and bidirectional.
 *
 * The operand fake-quantization kernels are bit-exact with the TS quantizers (same QuantSpec, same group
 * order; tested below element by element). Tolerance for the whole core, and why: the softmax uses WGSL exp/log (llvmpipe's, not correctly rounded like JS Math.exp) and the GPU folds the online
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

Deno.test("GPU operand fake-quantization is bit-exact with the TS quantizers (every format and group shape)", async () => {
  const { rt } = await sharedRuntime();
  const H = 2, Z = 2, T = 48, hd = 32, tile = 16;
  const L = { ld: 2 * hd * 2, sb: T * 2 * hd * 2, sh: hd, off: 8 }; // heads side by side, a padding column block
  const n = L.off + Z * L.sb;
  const host = new Float32Array(n).map((_, i) =>
    gauss(77, i) * (i % 9 === 0 ? 40 : 1) * (i % 31 === 0 ? 1e-5 : 1)
  );
  for (
    const [q, role, cols] of [
      ["nvfp4", "qk", hd],
      ["nvfp4", "v", hd],
      ["mxfp4", "qk", hd],
      ["mxfp4", "v", hd],
      ["int8-block", "tok", hd],
      ["int8-token", "p", hd],
      ["bf16", "qk", hd],
      ["fp16", "tok", hd],
    ] as const
  ) {
    const buf = rt.storage(n * 4, "fq");
    rt.device.queue.writeBuffer(buf, 0, host);
    const { fakeQuantWgsl } = await import("../kernels/attention/ops.ts");
    const { groupShape, fakeQuant } = await import("../lib/attention/quant.ts");
    const g = groupShape(q, role, cols, tile);
    const groups = Z * H * Math.ceil(T / g.rows) * Math.ceil(cols / g.cols);
    const p = rt.pipeline(`test fq ${q} ${role}`, () => fakeQuantWgsl(q, role, Z * H, H, T, cols, tile, L));
    Program.of(rt.dispatch("fq", p, [buf], [Math.ceil(groups / 64), 1, 1])).submit(rt.device);
    const got = new Float32Array(await rt.read(buf));
    assert.ok(got.some((v, i) => v !== host[i]), `${q}/${role}: the kernel changed nothing`);
    assert.equal(got[0], host[0], "elements outside the heads stay untouched");
    for (let z = 0; z < Z * H; z++) {
      const b = Math.floor(z / H), h = z % H, base = L.off + b * L.sb + h * L.sh;
      const x = new Float32Array(T * cols);
      for (let r = 0; r < T; r++) for (let c = 0; c < cols; c++) x[r * cols + c] = host[base + r * L.ld + c];
      const want = fakeQuant(x, T, cols, q, role, tile);
      for (let r = 0; r < T; r++) {
        for (let c = 0; c < cols; c++) {
          const a = got[base + r * L.ld + c], e = want[r * cols + c];
          assert.ok(Object.is(a, e), `${q}/${role} z${z} (${r}, ${c}): GPU ${a} vs TS ${e}`);
        }
      }
    }
    rt.free(buf);
  }
});
