/**
 * Properties of the scheme quantizers: unbiased stochastic rounding, Hadamard cancellation in the GEMM,
 * trust masks zeroing exactly the clipped entries' gradients (through the engine's linear layer), DGE
 * derivative values, OCC reconstruction, and an all-identity scheme reproducing the f32 run bit for bit.
 */
import assert from "node:assert/strict";
import { evaluate, getRuntime, train } from "../lib/engine/train.ts";
import { GpuModel } from "../lib/models/llama/model.ts";
import { validationBatches } from "../lib/data/batches.ts";
import { loadSource } from "../lib/data/sources.ts";
import { initParams, resolveModelConfig } from "../lib/models/llama/config.ts";
import { Rng } from "../lib/engine/rng.ts";
import { Linear, Scratch } from "../lib/layers/linear.ts";
import { Program } from "../lib/gpu/runtime.ts";
import { resolveRecipe } from "../lib/schemes/resolve.ts";
import { hadamardForward, hadamardInverse } from "../lib/formats/hadamard.ts";
import { quantizeTensor } from "../lib/formats/scaling.ts";
import { BACKWARD, FORWARD } from "../lib/schemes/catalog.ts";
import { dgeDerivative, formatSpec, occIndices, refPrep, refTensor } from "../lib/schemes/reference.ts";
import type { OperandQuant } from "../lib/schemes/types.ts";
import { parseSwitch, withSwitch } from "../lib/schemes/schedule.ts";

const rng = new Rng(11);
const randn = (n: number, s = 1) => Float32Array.from({ length: n }, () => rng.normal() * s);

Deno.test("schemes: stochastic rounding is unbiased (E[Q(x)] = x within 5 standard errors)", () => {
  for (const op of [BACKWARD["sr-bwd"].dxDy!, FORWARD["sr-absmax"].x!]) {
    const x = randn(32);
    const target = hadamardForward(x, 32);
    const n = 4000, sum = new Float64Array(32), sumsq = new Float64Array(32);
    // Fixed step seed (same rotation) and fresh rounding seeds: the mean must be the rotated input.
    const opFixed: OperandQuant = { ...op, hadamard: { size: 32, signs: "fixed" } };
    for (let s = 0; s < n; s++) {
      const o = refPrep(opFixed, x, 0x9e37 + s * 7919);
      for (let j = 0; j < 32; j++) {
        sum[j] += o.v[j];
        sumsq[j] += o.v[j] * o.v[j];
      }
    }
    for (let j = 0; j < 32; j++) {
      const mean = sum[j] / n, sd = Math.sqrt(Math.max(sumsq[j] / n - mean * mean, 1e-12));
      assert.ok(
        Math.abs(mean - target[j]) <= 5 * sd / Math.sqrt(n) + 1e-6,
        `elem ${j}: ${mean} vs ${target[j]}`,
      );
    }
  }
});

Deno.test("schemes: the Hadamard cancels in the GEMM (XH·(WH)ᵀ = XWᵀ)", () => {
  const M = 8, N = 8, K = 128;
  const X = randn(M * K), W = randn(N * K);
  for (const size of [32, 128]) {
    const XH = hadamardForward(X, size), WH = hadamardForward(W, size);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let a = 0, b = 0, n = 0;
        for (let k = 0; k < K; k++) {
          a += XH[i * K + k] * WH[j * K + k];
          b += X[i * K + k] * W[j * K + k];
          n += Math.abs(X[i * K + k] * W[j * K + k]);
        }
        assert.ok(Math.abs(a - b) <= 1e-6 * n, `(${i},${j}) H${size}: ${a} vs ${b}`);
      }
    }
  }
});

Deno.test("schemes: quest trust mask = formats clip mask; DGE φ' = 1/k at interval ends, clamp at centres", () => {
  const op = FORWARD.quest.x!;
  const x = randn(64 * 32);
  for (let i = 0; i < x.length; i += 97) x[i] *= 30; // outliers to clip
  const spec = { ...formatSpec(op), hadamard: { size: 32 } };
  const ref = quantizeTensor(x, spec, { rows: 64, cols: 32, rotateBack: false });
  let clipped = 0;
  for (let r = 0; r < 64; r++) {
    const o = refPrep(op, x.subarray(r * 32, r * 32 + 32), 0);
    for (let j = 0; j < 32; j++) {
      assert.equal(o.g[j], ref.mask[r * 32 + j], `row ${r} elem ${j}`);
      assert.equal(o.v[j], ref.values[r * 32 + j]);
      clipped += 1 - o.g[j];
    }
  }
  assert.ok(clipped > 0, "some entries were clipped");
  for (const y of [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.5, -2, -4, -6]) {
    assert.equal(dgeDerivative(y, 5, 3), Math.fround(1 / 5));
  }
  for (const y of [0.25, 0.75, 1.75, 2.5, 3.5, 5, -0.25, -5]) assert.equal(dgeDerivative(y, 5, 3), 3);
});

Deno.test("schemes: OCC clamp plus residual reconstructs the activation", () => {
  const occ = FORWARD["fp4-dge-occ"].x!;
  const plain: OperandQuant = { ...occ, clip: { quantile: 0.99, compensate: false } };
  for (const G of [128, 352]) {
    const x = randn(G);
    for (let i = 0; i < G; i += 41) x[i] *= 25;
    const sorted = Float32Array.from(x).sort();
    const { iLo, iHi } = occIndices(0.99, G);
    const lo = sorted[iLo], hi = sorted[iHi];
    let nz = 0;
    const a = refPrep(occ, x, 1), b = refPrep(plain, x, 1);
    for (let j = 0; j < G; j++) {
      const c = Math.min(Math.max(x[j], lo), hi), r = Math.fround(x[j] - c);
      assert.equal(Math.fround(c + r), x[j], `clamp + residual at ${j}`);
      if (r !== 0) nz++;
      assert.ok(Math.abs(a.v[j] - Math.fround(b.v[j] + r)) <= 1e-6 * Math.abs(x[j]) + 1e-12);
    }
    assert.ok(nz >= 2 && nz <= Math.ceil(0.03 * G) + 2, `residual nonzeros ${nz} of ${G}`);
  }
});

Deno.test("schemes: trust mask zeroes exactly the clipped entries' gradients in the engine's dX", async () => {
  const { rt } = await getRuntime();
  const M = 64, inF = 64, outF = 32;
  const scheme = resolveRecipe({ fwd: "quest", bwd: "fp32" });
  const step = rt.uniform(16, "step");
  rt.device.queue.writeBuffer(step, 0, new Uint32Array([0, 0, 0, 12345]));
  const lin = new Linear(rt, {
    name: "t",
    M,
    inF,
    outF,
    scheme,
    salt: 3,
    stepUniform: step,
    scratch: new Scratch(rt),
  });
  const X = randn(M * inF), W = randn(outF * inF, 0.1), dY = randn(M * outF);
  for (let i = 0; i < X.length; i += 53) X[i] *= 40;
  const up = (a: Float32Array) => {
    const b = rt.storage(a.byteLength, "t");
    rt.device.queue.writeBuffer(b, 0, a as Float32Array<ArrayBuffer>);
    return b;
  };
  const xb = up(X), wb = up(W), yb = up(new Float32Array(M * outF)), dyb = up(dY);
  const dxb = up(new Float32Array(M * inF)), dwb = up(new Float32Array(outF * inF));
  const prog = new Program();
  lin.forward(prog, { buffer: xb }, { buffer: wb }, { buffer: yb });
  lin.backward(prog, { buffer: dyb }, { buffer: xb }, { buffer: wb }, { buffer: dxb }, { buffer: dwb });
  prog.submit(rt.device);
  const dX = new Float32Array(await rt.read(dxb));
  // Reference: dX_rot = dY·W_q, masked by X's trust mask, rotated back.
  const xr = refTensor(FORWARD.quest.x!, X, M, inF, 1, 12345, 0);
  const wr = refTensor(FORWARD.quest.w!, W, outF, inF, 1, 12345, 0);
  const rot = new Float32Array(M * inF);
  let masked = 0;
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < inF; k++) {
      let s = 0;
      for (let o = 0; o < outF; o++) s += dY[m * outF + o] * wr.v[o * inF + k];
      rot[m * inF + k] = s * xr.g[m * inF + k];
      masked += 1 - xr.g[m * inF + k];
    }
  }
  assert.ok(masked > 0, "the outliers were clipped");
  const want = hadamardInverse(rot, 32);
  const gotRot = hadamardForward(dX, 32);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(dX[i] - want[i]) <= 1e-4 * (1 + Math.abs(want[i])), `dX[${i}] ${dX[i]} vs ${want[i]}`);
    if (xr.g[i] === 0) assert.ok(Math.abs(gotRot[i]) <= 1e-5, `clipped entry ${i} has gradient ${gotRot[i]}`);
  }
  for (const b of [xb, wb, yb, dyb, dxb, dwb, step]) b.destroy();
});

Deno.test("schemes: an all-identity scheme reproduces the f32 run bit for bit", async () => {
  const model = resolveModelConfig({ layers: 1, dModel: 64, heads: 2, context: 32 });
  const base = { model, batch: 4, steps: 3, lr: 3e-3, seed: 1, data: "sotu", evalEvery: 0, evalTokens: 1024 };
  const a = await train({ ...base, scheme: { fwd: "fp32", bwd: "fp32" } });
  const b = await train({
    ...base,
    scheme: {
      fwd: "identity-test",
      bwd: "identity-test",
      fwdDef: { label: "identity-test", description: "" },
      bwdDef: { label: "identity-test", description: "" },
    },
  });
  assert.deepEqual(
    b.curve.map((p) => [p.trainLoss, p.valLoss]),
    a.curve.map((p) => [p.trainLoss, p.valLoss]),
  );
  assert.equal(b.finalValLoss, a.finalValLoss);
});

Deno.test("schemes: target-precision switch keeps the state (A~A@f = A bit for bit; A~B@f = A before f)", async () => {
  const model = resolveModelConfig({ layers: 1, dModel: 64, heads: 2, context: 32 });
  const base = { model, batch: 4, steps: 4, lr: 3e-3, seed: 2, data: "sotu", evalEvery: 0, evalTokens: 1024 };
  const a = await train({ ...base, scheme: { fwd: "rtn-mxfp4", bwd: "bf16" } });
  const b = await train({
    ...base,
    scheme: withSwitch({ fwd: "rtn-mxfp4", bwd: "bf16" }, { fwd: "rtn-mxfp4", bwd: "bf16" }, 0.5),
  });
  const c = await train({
    ...base,
    scheme: withSwitch({ fwd: "rtn-mxfp4", bwd: "bf16" }, { fwd: "fp32", bwd: "fp32" }, 0.5),
  });
  assert.deepEqual(b.curve.map((p) => p.trainLoss), a.curve.map((p) => p.trainLoss));
  assert.equal(b.finalValLoss, a.finalValLoss);
  assert.deepEqual(c.curve.slice(0, 2).map((p) => p.trainLoss), a.curve.slice(0, 2).map((p) => p.trainLoss));
  assert.notEqual(c.finalValLoss, a.finalValLoss);
  assert.deepEqual(parseSwitch({ fwd: "fp4-mixed~fp8@0.9", bwd: "fp8" }), {
    first: { fwd: "fp4-mixed", bwd: "fp8" },
    second: { fwd: "fp8", bwd: "fp8" },
    fraction: 0.9,
  });
});

Deno.test("schemes: validation loss runs with the forward quantizers active; module-wise hooks reach the layers", async () => {
  const { rt } = await getRuntime();
  const cfg = resolveModelConfig({ layers: 1, dModel: 64, heads: 2, context: 32 });
  const val = validationBatches(loadSource("sotu").val, 32, 4, 256);
  const params = initParams(cfg, 3);
  const loss = async (fwd: string) => {
    const m = GpuModel.create(rt, cfg, {
      batch: 4,
      recipe: resolveRecipe({ fwd, bwd: "fp32" }),
      train: false,
    });
    m.setParams(params);
    return await evaluate(m, val.batches);
  };
  const [a, b] = [await loss("fp32"), await loss("quest")];
  assert.ok(Number.isFinite(a) && Number.isFinite(b));
  assert.notEqual(a, b);
  const mixed = resolveRecipe({ fwd: "fp4-mixed", bwd: "fp8" });
  assert.ok(mixed.modules?.qkv && mixed.modules.o, "attention projections get their own hooks");
  assert.notEqual(mixed.modules!.qkv.fwd.x!.id, mixed.fwd.x!.id);
  assert.equal(mixed.modules!.qkv.bwd, mixed.bwd);
});
