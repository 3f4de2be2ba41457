/** Every engine WGSL kernel against its TypeScript reference on small shapes. */
import assert from "node:assert/strict";
import { getRuntime } from "../lib/engine/train.ts";
import { Program, type Runtime } from "../lib/gpu/runtime.ts";
import { denseGemm, gemmGrid, gemmKey, type GemmSpec, gemmWgsl, tileFor } from "../kernels/engine/gemm.ts";
import * as K from "../kernels/engine/ops.ts";
import * as R from "../lib/models/llama/reference.ts";
import { packBatch, ropeTable } from "../lib/models/llama/model.ts";
import { FORWARD } from "../lib/schemes/catalog.ts";
import { prepWgsl } from "../kernels/schemes/prep.ts";
import { quantizeElement } from "../lib/formats/quantize.ts";
import { ELEMENTS } from "../lib/formats/elements.ts";

/** BF16 RNE of the formats library (the TS twin of the generated WGSL). */
const bf16Round = (x: number) => quantizeElement(ELEMENTS.bf16, Math.fround(x));
import { Rng } from "../lib/engine/rng.ts";

const rng = new Rng(42);
const randn = (n: number, s = 1) => Float32Array.from({ length: n }, () => rng.normal() * s);

/** Runs one kernel: uploads `inputs` to fresh buffers bound in order, returns the contents after. */
async function run(
  rt: Runtime,
  key: string,
  code: string,
  inputs: (Float32Array | Uint32Array | { uniform: ArrayBuffer })[],
  grid: [number, number, number],
): Promise<Float32Array[]> {
  const bufs = inputs.map((x) => {
    if ("uniform" in x) {
      const b = rt.uniform(16, "u");
      rt.device.queue.writeBuffer(b, 0, x.uniform);
      return b;
    }
    const b = rt.storage(x.byteLength, "t");
    rt.device.queue.writeBuffer(b, 0, x as Float32Array<ArrayBuffer>);
    return b;
  });
  const pipe = rt.pipeline(key, () => code);
  const d = rt.dispatch(key, pipe, bufs, grid);
  Program.of(d).submit(rt.device);
  const out: Float32Array[] = [];
  for (let i = 0; i < bufs.length; i++) {
    const x = inputs[i];
    out.push("uniform" in x ? new Float32Array(0) : new Float32Array(await rt.read(bufs[i], x.byteLength)));
    bufs[i].destroy();
  }
  return out;
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    if (!(e <= worst)) worst = e, at = i;
  }
  assert.ok(worst <= tol, `${what}: max rel error ${worst} at ${at} (got ${got[at]}, want ${want[at]})`);
}

Deno.test("gemm: all transposes, batch/heads strides, alpha and epilogues", async () => {
  const { rt } = await getRuntime();
  const M = 16, N = 24, Kd = 12;
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const A = randn(M * Kd), B = randn(Kd * N), D = randn(M * N), G = randn(M * N);
      const want = R.matmul(A, B, M, N, Kd, transA, transB, 0.5);
      const base = { ...denseGemm(M, N, Kd, transA, transB), alpha: 0.5 };
      const s1: GemmSpec = { ...base };
      const [, , C1] = await run(
        rt,
        gemmKey(s1),
        gemmWgsl(s1),
        [A, B, new Float32Array(M * N)],
        gemmGrid(s1),
      );
      close(C1, want, 1e-5, `plain ${transA} ${transB}`);
      const s2: GemmSpec = { ...base, add: "buf", mul: true };
      const [, , C2] = await run(
        rt,
        gemmKey(s2),
        gemmWgsl(s2),
        [A, B, new Float32Array(M * N), D, G],
        gemmGrid(s2),
      );
      close(C2, want.map((v, i) => v * G[i] + D[i]), 1e-5, `add+mul ${transA} ${transB}`);
      const s3: GemmSpec = { ...base, add: "self" };
      const [, , C3] = await run(rt, gemmKey(s3), gemmWgsl(s3), [A, B, D.slice()], gemmGrid(s3));
      close(C3, want.map((v, i) => v + D[i]), 1e-5, `acc ${transA} ${transB}`);
    }
  }
  // batched heads reading a fused [B·T, 3D] buffer, like attention scores Q·Kᵀ
  const Bn = 2, H = 2, T = 16, hd = 8, Dm = H * hd;
  const qkv = randn(Bn * T * 3 * Dm);
  const s: GemmSpec = {
    M: T,
    N: T,
    K: hd,
    batch: Bn * H,
    heads: H,
    transA: false,
    transB: true,
    a: { ld: 3 * Dm, sb: T * 3 * Dm, sh: hd },
    b: { ld: 3 * Dm, sb: T * 3 * Dm, sh: hd, off: Dm },
    c: { ld: T, sb: H * T * T, sh: T * T },
    alpha: 0.25,
  };
  const [, , S] = await run(
    rt,
    gemmKey(s),
    gemmWgsl(s),
    [qkv, qkv, new Float32Array(Bn * H * T * T)],
    gemmGrid(s),
  );
  for (let b = 0; b < Bn; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        for (let j = 0; j < T; j++) {
          let acc = 0;
          for (let e = 0; e < hd; e++) {
            acc += qkv[(b * T + i) * 3 * Dm + h * hd + e] * qkv[(b * T + j) * 3 * Dm + Dm + h * hd + e];
          }
          const got = S[((b * H + h) * T + i) * T + j];
          assert.ok(Math.abs(got - 0.25 * acc) < 1e-5, `scores ${b} ${h} ${i} ${j}`);
        }
      }
    }
  }
  assert.throws(() => gemmWgsl({ ...s, M: 12 }), /multiple of 8/);
  // causal modes on a lower-triangular (kmax) / upper-triangular (kmin) A, and tile skipping
  const n = 32;
  const low = randn(n * n).map((x, i) => (i % n) <= Math.floor(i / n) ? x : 0);
  const Bm = randn(n * n);
  for (
    const [mode, Am, transA] of [["kmax", low, false], ["kmin", low, true], [
      "skip",
      randn(n * n),
      false,
    ]] as const
  ) {
    const sp: GemmSpec = {
      M: n,
      N: n,
      K: n,
      transA,
      transB: false,
      a: { ld: n },
      b: { ld: n },
      c: { ld: n },
      tm: 16,
      causal: mode,
    };
    const [, , Cc] = await run(
      rt,
      gemmKey(sp),
      gemmWgsl(sp),
      [Am, Bm, new Float32Array(n * n).fill(7)],
      gemmGrid(sp),
    );
    const want = R.matmul(Am, Bm, n, n, n, transA, false);
    if (mode !== "skip") close(Cc, want, 1e-5, mode);
    else {
      for (let i = 0; i < n * n; i++) {
        const [r, c] = [Math.floor(i / n), i % n];
        const skipped = Math.floor(c / 8) * 8 >= Math.floor(r / 16) * 16 + 16;
        assert.ok(
          skipped ? Cc[i] === 7 : Math.abs(Cc[i] - want[i]) < 1e-4,
          `skip ${r},${c}: ${Cc[i]} vs ${want[i]}`,
        );
      }
    }
  }
});

Deno.test("gemm: the model's tile choices (up to 32×32, textures, causal) equal the reference", async () => {
  const { rt } = await getRuntime();
  const dev = rt.device;
  /** Runs `s` on A and B uploaded as rgba32float textures; C starts filled with 7. */
  const gemmTex = async (s: GemmSpec, A: Float32Array, rowsA: number, B: Float32Array, rowsB: number) => {
    const tex = (x: Float32Array, rows: number, cols: number) => {
      const t = rt.texture(cols / 4, rows, "t");
      const layout = { bytesPerRow: cols * 4 };
      dev.queue.writeTexture({ texture: t }, x as Float32Array<ArrayBuffer>, layout, [cols / 4, rows]);
      return t;
    };
    const ta = tex(A, rowsA, s.a.ld), tb = tex(B, rowsB, s.b.ld);
    const c = rt.storage(s.M * s.N * 4, "c");
    dev.queue.writeBuffer(c, 0, new Float32Array(s.M * s.N).fill(7));
    const pipe = rt.pipeline(gemmKey(s), () => gemmWgsl(s));
    const d = rt.dispatch("t", pipe, [ta.createView(), tb.createView(), c], gemmGrid(s));
    Program.of(d).submit(rt.device);
    const out = new Float32Array(await rt.read(c));
    c.destroy(), ta.destroy(), tb.destroy();
    return out;
  };
  // Shapes the reference model gets: a linear X·Wᵀ (32×32 tiles) and causal attention products with
  // 32×32 (scores, skipping tiles above the diagonal) and 32×16 tiles (P·V and its transposes).
  const n = 128, k = 64, hd = 32;
  const X = randn(n * k), W = randn(n * k), V = randn(n * hd);
  const low = randn(n * n).map((v, i) => (i % n) <= Math.floor(i / n) ? v : 0);
  const xw: GemmSpec = {
    M: n,
    N: n,
    K: k,
    transA: false,
    transB: true,
    a: { ld: k },
    b: { ld: k },
    c: { ld: n },
  };
  const pv = (transA: boolean): GemmSpec => ({
    M: n,
    N: hd,
    K: n,
    transA,
    transB: false,
    a: { ld: n },
    b: { ld: hd },
    c: { ld: hd },
    causal: transA ? "kmin" : "kmax",
  });
  const cases: [string, GemmSpec, Float32Array, number, Float32Array, number, ArrayLike<number>][] = [
    ["X·Wᵀ", xw, X, n, W, n, R.matmul(X, W, n, n, k, false, true)],
    ["causal skip", { ...xw, causal: "skip" }, X, n, W, n, R.matmul(X, W, n, n, k, false, true)],
    ["causal kmax", pv(false), low, n, V, n, R.matmul(low, V, n, hd, n, false, false)],
    ["causal kmin", pv(true), low, n, V, n, R.matmul(low, V, n, hd, n, true, false)],
  ];
  const seen: string[] = [];
  for (const [what, s0, A, rowsA, B, rowsB, want] of cases) {
    const s: GemmSpec = { ...s0, ...tileFor(s0.M, s0.N, s0.K, 64), tex: true }; // batch 64, as in the model
    seen.push(`${s.tm}×${s.tn}`);
    const got = await gemmTex(s, A, rowsA, B, rowsB);
    for (let i = 0; i < got.length; i++) {
      const [r, col] = [Math.floor(i / s.N), i % s.N];
      const skipped = s.causal === "skip" &&
        Math.floor(col / s.tn!) * s.tn! >= Math.floor(r / s.tm!) * s.tm! + s.tm!;
      assert.ok(
        skipped ? got[i] === 7 : Math.abs(got[i] - want[i]) <= 1e-4 * (1 + Math.abs(want[i])),
        `${what} ${s.tm}×${s.tn} at ${r},${col}: ${got[i]} vs ${want[i]}`,
      );
    }
    if (what === "X·Wᵀ") {
      // the tile is a speed knob only: every output sums its k terms in the same order
      const small = await gemmTex({ ...s, tm: 16, tn: 16, wg: 16 }, A, rowsA, B, rowsB);
      assert.deepEqual(small, got, "16×16 and 32×32 tiles give bit-identical results");
    }
  }
  assert.deepEqual(seen, ["32×32", "32×32", "32×16", "32×16"]);
  assert.deepEqual(tileFor(2048, 704, 128), { tm: 32, tn: 32, wg: 8 });
  assert.deepEqual(tileFor(64, 64, 64), { tm: 8, tn: 8, wg: 16 }, "small GEMMs keep 8×8");
});

Deno.test("rmsnorm forward, backward (with residual) and weight gradient", async () => {
  const { rt } = await getRuntime();
  const M = 8, D = 32, eps = 1e-5;
  const X = randn(M * D), w = randn(D), dY = randn(M * D), dres = randn(M * D);
  const ref = R.rmsFwd(X, w, M, D, eps);
  const [, , Y, r] = await run(rt, "t-rmsf", K.rmsFwd(M, D, eps), [
    X,
    w,
    new Float32Array(M * D),
    new Float32Array(M),
  ], K.grid1d(M));
  close(Y, ref.Y, 1e-5, "Y");
  close(r, ref.r, 1e-5, "r");
  const rb = R.rmsBwd(dY, X, w, ref.r, M, D);
  const [, , , , dX] = await run(
    rt,
    "t-rmsb1",
    K.rmsBwd(M, D, true),
    [dY, X, w, r, dres.slice()],
    K.grid1d(M),
  );
  close(dX, rb.dX.map((v, i) => v + dres[i]), 1e-5, "dX");
  const [, , , , dX0] = await run(
    rt,
    "t-rmsb0",
    K.rmsBwd(M, D, false),
    [dY, X, w, r, dres.slice()],
    K.grid1d(M),
  );
  close(dX0, rb.dX, 1e-5, "dX no residual");
  const [, , , dw] = await run(
    rt,
    "t-rmsdw",
    K.rmsDw(M, D),
    [dY, X, r, new Float32Array(D)],
    K.grid1d(D / 4),
  );
  close(dw, rb.dw, 1e-5, "dw");
});

Deno.test("rope forward and inverse on fused qkv", async () => {
  const { rt } = await getRuntime();
  const T = 8, M = 16, D = 32, hd = 16;
  const qkv = randn(M * 3 * D), tab = ropeTable(T, hd, 10000);
  for (const inv of [false, true]) {
    const [got] = await run(
      rt,
      `t-rope${inv}`,
      K.rope(M, T, D, hd, inv),
      [qkv.slice(), tab],
      K.grid1d((M * D) / 4),
    );
    close(got, R.rope(qkv, M, T, D, hd, 10000, inv), 1e-6, `rope inverse=${inv}`);
  }
  // inverse ∘ forward = identity
  const f = R.rope(R.rope(qkv, M, T, D, hd, 10000, false), M, T, D, hd, 10000, true);
  close(f, qkv, 1e-6, "roundtrip");
});

Deno.test("causal softmax forward and backward", async () => {
  const { rt } = await getRuntime();
  const Z = 3, T = 16;
  const S = randn(Z * T * T, 2), dP = randn(Z * T * T);
  const P = R.softmaxCausal(S, Z, T);
  const [got] = await run(rt, "t-smf", K.softmaxCausal(Z, T), [S.slice()], K.grid1d(Z * T));
  close(got, P, 1e-6, "P");
  const [, dS] = await run(rt, "t-smb", K.softmaxBwd(Z, T), [got, dP.slice()], K.grid1d(Z * T));
  close(dS, R.softmaxBwd(P, dP, Z, T), 1e-6, "dS");
});

Deno.test("swiglu forward and backward", async () => {
  const { rt } = await getRuntime();
  const M = 8, F = 32;
  const GU = randn(M * 2 * F, 2), dA = randn(M * F);
  const [, A] = await run(rt, "t-swf", K.swigluFwd(M, F), [GU, new Float32Array(M * F)], K.grid1d(M * F / 4));
  close(A, R.swigluFwd(GU, M, F), 1e-6, "A");
  const [, , dGU] = await run(
    rt,
    "t-swb",
    K.swigluBwd(M, F),
    [GU, dA, new Float32Array(M * 2 * F)],
    K.grid1d(M * F / 4),
  );
  close(dGU, R.swigluBwd(GU, dA, M, F), 1e-6, "dGU");
});

Deno.test("cross-entropy (loss, gradient, ignored targets) and ordered loss sum", async () => {
  const { rt } = await getRuntime();
  const M = 8, V = 256;
  const logits = randn(M * V, 3);
  const inputs = Array.from({ length: M }, (_, i) => (i * 37) % V);
  const targets = Array.from({ length: M }, (_, i) => (i === 5 ? -1 : (i * 101 + 7) % V));
  const bt = packBatch(inputs, targets, V);
  const ref = R.crossEntropy(logits, targets, M, V, 1 / M);
  const [, dl, loss] = await run(rt, "t-ce1", K.crossEntropy(M, V, M, true, 1 / M), [
    bt,
    logits.slice(),
    new Float32Array(M),
  ], K.grid1d(M));
  close(loss, ref.loss, 1e-6, "loss");
  close(dl, ref.dlogits, 1e-6, "dlogits");
  const [, o] = await run(rt, "t-sum", K.sumReduce(M, 0.5, 1, false), [loss, new Float32Array(4)], [1, 1, 1]);
  close([o[1]], [0.5 * ref.loss.reduce((a, b) => a + b, 0)], 1e-6, "sum");
});

Deno.test("embedding gather and atomic-free gradient", async () => {
  const { rt } = await getRuntime();
  const M = 16, D = 8, V = 256;
  const E = randn(V * D), dX = randn(M * D);
  const inputs = Array.from({ length: M }, (_, i) => [3, 7, 3, 200, 7, 3][i % 6]);
  const bt = packBatch(inputs, inputs, V);
  const [, , X] = await run(
    rt,
    "t-embf",
    K.embedFwd(M, D),
    [bt, E, new Float32Array(M * D)],
    K.grid1d(M * D / 4),
  );
  close(
    X,
    Float64Array.from({ length: M * D }, (_, i) => E[inputs[Math.floor(i / D)] * D + (i % D)]),
    0,
    "gather",
  );
  const lay = { offOff: 2 * M, posOff: 2 * M + V + 1 };
  const [, , dE] = await run(rt, "t-embb", K.embedBwd(M, D, V, lay.offOff, lay.posOff), [
    bt,
    dX,
    new Float32Array(V * D),
  ], K.grid1d(V * D / 4));
  const want = new Float64Array(V * D);
  for (let m = 0; m < M; m++) for (let j = 0; j < D; j++) want[inputs[m] * D + j] += dX[m * D + j];
  close(dE, want, 1e-6, "dE");
});

Deno.test("grad-norm clip and AdamW step", async () => {
  const { rt } = await getRuntime();
  const n = 1024;
  const p = randn(n),
    g = randn(n, 0.2),
    m = randn(n, 0.01),
    v = Float32Array.from(randn(n, 0.01), (x) => x * x);
  const [, parts] = await run(
    rt,
    "t-ss",
    K.sumSquaresPartial(n / 4, 64),
    [g, new Float32Array(4)],
    K.grid1d(4),
  );
  const [, clip] = await run(rt, "t-clip", K.clipCoef(4, 1.0), [parts, new Float32Array(2)], [1, 1, 1]);
  const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
  close([clip[0], clip[1]], [norm, Math.min(1, 1 / (norm + 1e-6))], 1e-6, "clip");
  const lr = 1e-2, step = 3;
  const u = new ArrayBuffer(16);
  new Float32Array(u, 0, 3).set([lr, lr / (1 - 0.9 ** step), Math.sqrt(1 - 0.95 ** step)]);
  const [P2, , M2, V2] = await run(rt, "t-adam", K.adamw(n / 4, 0.9, 0.95, 1e-8, 0.1), [
    p.slice(),
    g,
    m.slice(),
    v.slice(),
    clip,
    { uniform: u },
  ], K.grid1d(n / 4));
  const ref = R.adamwStep(p, g, m, v, { lr, step, b1: 0.9, b2: 0.95, eps: 1e-8, wd: 0.1, clipCoef: clip[1] });
  close(M2, ref.m, 1e-6, "m");
  close(V2, ref.v, 1e-6, "v");
  close(P2, ref.p, 1e-5, "p");
});

Deno.test("operand prepare pass: BF16 rounding (generated from lib/formats) and group addressing along either axis", async () => {
  const { rt } = await getRuntime();
  const Rr = 64, C = 32;
  const X = randn(Rr * C, 3);
  const u = { uniform: new ArrayBuffer(16) };
  const [, got] = await run(rt, "t-bf16", K.prepare(Rr, C, 1, 1, prepWgsl(FORWARD.bf16.x!, 1), false, 1), [
    X,
    new Float32Array(Rr * C),
    u,
  ], K.grid1d(Rr * C));
  close(got, Array.from(X, bf16Round), 0, "bf16");
  assert.equal(bf16Round(1 + 2 ** -8), 1); // tie → even
  assert.equal(bf16Round(1 + 3 * 2 ** -8), 1 + 2 ** -6);
  // a group-32 prep that writes each value's index within its group; multiplier = 2
  const idx = `fn prep(v: ptr<function, array<f32, 32>>, g: ptr<function, array<f32, 32>>, seed: u32) {
  for (var j = 0u; j < 32u; j++) { (*v)[j] = f32(j); (*g)[j] = 2.0; }
}`;
  for (const axis of [0, 1] as const) {
    const [, o, , gm] = await run(rt, `t-grp${axis}`, K.prepare(Rr, C, axis, 32, idx, true, 1), [
      X,
      new Float32Array(Rr * C),
      u,
      new Float32Array(Rr * C),
    ], K.grid1d(Rr * C / 32));
    const want = Array.from({ length: Rr * C }, (_, i) => (axis === 1 ? i % C : Math.floor(i / C) % 32));
    close(o, want, 0, `group axis ${axis}`);
    assert.ok(gm.every((x) => x === 2));
  }
});
