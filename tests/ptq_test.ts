import assert from "node:assert/strict";
import { loadModel, saveCheckpoint } from "../lib/engine/checkpoint.ts";
import { Rng } from "../lib/engine/rng.ts";
import { initLayout } from "../lib/models/layout.ts";
import { paramLayout, resolveModelConfig } from "../lib/models/llama/config.ts";
import { minifloat, quantizeElement } from "../lib/formats/mod.ts";
import { gridOf, quantScaled, scaleForBias } from "../lib/ptq/grid.ts";
import { applyAct, outputMse, rotateRowF32, rotateRows } from "../lib/ptq/quant.ts";
import { fpqLayer, quantActShifted } from "../lib/ptq/fpq.ts";
import { linear } from "../lib/ptq/forward.ts";
import { gptq } from "../lib/ptq/gptq.ts";
import { absmaxScales, rtnWeight } from "../lib/ptq/quant.ts";
import { initRounding, roundedWeights, softH } from "../lib/ptq/adaround.ts";
import { preparePtq, runPtq } from "../lib/ptq/run.ts";
import { readPtqConfig, readScales } from "../lib/ptq/checkpoint.ts";
import { evalQuantized } from "../lib/ptq/eval.ts";
import { loadSource } from "../lib/data/sources.ts";
import { storedWeight } from "../lib/ptq/layer.ts";
import type { LinearInfo } from "../lib/ptq/forward.ts";

const randn = (n: number, seed: number, scale = 1) => {
  const r = new Rng(seed);
  return Float64Array.from({ length: n }, () => r.normal() * scale);
};

Deno.test("LLM-FP4 pre-shifted bias: Q_{b+ρ}(x) = 2^−ρ·Q_b(2^ρ·x) exactly, and both GEMM orders agree bit for bit", () => {
  for (const f of ["e2m1", "e3m0", "e1m2"]) {
    const g = gridOf(f);
    const xs = randn(2000, 1, 3);
    for (const b of [0.3, 1, 2.7]) {
      for (let rho = 0; rho < 4; rho++) {
        for (const x of xs) {
          // channel bias b + ρ is the scale s_b·2^−ρ (scaleForBias(b + ρ) equals it up to the f64 exponent sum)
          const sb = scaleForBias(g, b);
          assert.ok(Math.abs(scaleForBias(g, b + rho) / (sb * 2 ** -rho) - 1) < 1e-12);
          const lhs = quantScaled(g, x, sb * 2 ** -rho);
          const rhs = 2 ** -rho * quantScaled(g, 2 ** rho * x, scaleForBias(g, b));
          assert.equal(lhs, rhs);
        }
      }
    }
  }
  // the scale form equals lib/formats' real-bias quantizer (an f32 quantizer: agreement to f32 precision)
  const b = 2.37, g = gridOf("e2m1"), fmt = minifloat(2, 1, { bias: b });
  for (const x of randn(500, 2, 0.5)) {
    const a = quantScaled(g, x, scaleForBias(g, b)), r = quantizeElement(fmt, x);
    assert.ok(Math.abs(a - r) <= 1e-6 * Math.max(1, Math.abs(a)), `${x}: ${a} vs ${r}`);
  }
  // a searched layer: activation quantizer with channelMul × stored weights = per-channel-bias quantizer × Ŵ
  const K = 32, outF = 16, M = 64;
  const X = randn(M * K, 3).map((v, i) => v * 2 ** ((i % K) % 5)); // channels of very different ranges
  const info: LinearInfo = { name: "t", kind: "o", inF: K, outF };
  const res = fpqLayer({ info, W: randn(outF * K, 4, 0.1), X, M }, 4, 4, {
    perChannel: true,
    rounds: 1,
    gammas: { lo: 0.01, hi: 1.2, n: 20 },
    actTokens: 64,
  });
  assert.ok(res.act?.channelMul && res.colScale, "per-channel offsets were used");
  const rho = Int32Array.from(res.act!.channelMul!, (m) => Math.log2(m));
  const viaFold = linear(applyAct(res.act!, X, M, K), storedWeight(res, K), M, K, outF);
  const direct = linear(
    quantActShifted(gridOf(res.act!.format), X, M, K, res.act!.scale!, rho),
    res.weight.w,
    M,
    K,
    outF,
  );
  assert.deepEqual(viaFold, direct);
});

Deno.test("a folded Hadamard rotation leaves fp32 layer outputs unchanged to 1e-5 (power-of-two and block-diagonal widths)", () => {
  for (const [K, size] of [[64, 64], [96, 32], [176, 16]]) {
    const M = 16, outF = 24;
    const X = randn(M * K, 5), W = randn(outF * K, 6, 0.2);
    const Y = linear(Float32Array.from(X), Float32Array.from(W), M, K, outF);
    const Yr = linear(
      Float32Array.from(rotateRows(X, K, size, 7)),
      Float32Array.from(rotateRows(W, K, size, 7)),
      M,
      K,
      outF,
    );
    for (let i = 0; i < Y.length; i++) {
      assert.ok(Math.abs(Y[i] - Yr[i]) < 1e-5, `K=${K}: ${Y[i]} vs ${Yr[i]}`);
    }
  }
  // the same transform as lib/formats' (signs, order, normalisation)
  const x = Float32Array.from(randn(64, 8));
  const a = rotateRows(x, 64, 64, 9), b = rotateRowF32(x, 64, 9);
  for (let i = 0; i < 64; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5);
});

Deno.test("FP-GPTQ on a random layer beats round-to-nearest's output error with the same scales", () => {
  const M = 256, K = 64, outF = 32, r = 8;
  // correlated inputs: low-rank factors plus noise
  const A = randn(M * r, 10), B = randn(r * K, 11), N = randn(M * K, 12, 0.1);
  const X = new Float64Array(M * K);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      let s = N[m * K + k];
      for (let j = 0; j < r; j++) s += A[m * r + j] * B[j * K + k];
      X[m * K + k] = s;
    }
  }
  const W = randn(outF * K, 13, 0.1);
  const g = gridOf("e2m1");
  const sc = absmaxScales(W, outF, K, K, g.max);
  const rtn = rtnWeight(W, outF, K, "e2m1", sc, K).w;
  const q = gptq(W, X, M, outF, K, "e2m1", sc, K).w;
  const eR = outputMse(X, X, W, rtn, M, K, outF), eG = outputMse(X, X, W, q, M, K, outF);
  assert.ok(eG < 0.8 * eR, `gptq ${eG} vs rtn ${eR}`);
  for (let j = 0; j < outF; j++) {
    for (let k = 0; k < K; k++) assert.ok(nearGrid("e2m1", q[j * K + k] / sc[j]));
  }
});

Deno.test("AdaRound: soft rounding at init reproduces the fractional parts; hard rounding lands on the grid", () => {
  const outF = 8, K = 64, g = gridOf("e2m1");
  const W = randn(outF * K, 14, 0.05);
  const sc = absmaxScales(W, outF, K, 32, g.max);
  for (const aware of [true, false]) {
    const st = initRounding(W, outF, K, g, sc, 32, aware);
    const soft = roundedWeights(st, false);
    for (let i = 0; i < W.length; i++) {
      if (st.step[i] === 0) continue;
      const rest = (W[i] - st.base[i]) / st.step[i];
      assert.ok(Math.abs(softH(st, i) - rest) < 1e-9, `${softH(st, i)} vs ${rest}`);
      assert.ok(Math.abs(soft[i] - W[i]) < 1e-12);
    }
    const hard = roundedWeights(st, true);
    for (let j = 0; j < outF; j++) {
      for (let k = 0; k < K; k++) {
        const s = sc[j * 2 + Math.floor(k / 32)];
        assert.ok(nearGrid("e2m1", hard[j * K + k] / s), `${hard[j * K + k] / s}`);
      }
    }
  }
});

const cfg = resolveModelConfig({ layers: 1, dModel: 32, heads: 2, context: 32 });

function floatCheckpoint(): string {
  const dir = Deno.makeTempDirSync();
  saveCheckpoint(dir, cfg, initLayout(paramLayout(cfg), 3), null, null, { fwd: "fp32", bwd: "fp32" });
  return dir;
}

function nearGrid(format: string, u: number): boolean {
  const g = gridOf(format);
  const q = quantScaled(g, u, 1);
  return Math.abs(u - q) <= 1e-6 * Math.max(1, Math.abs(q));
}

Deno.test("every weight of a written quantized checkpoint lies on its format's grid times its scale; eval reads it", () => {
  const src = floatCheckpoint();
  const val = loadSource("sotu").val;
  for (const recipe of ["minmax-e2m1", "minmax-int4", "minmax-nvfp4", "fpq", "hqdit", "fp4dit"]) {
    const out = Deno.makeTempDirSync();
    const r = runPtq({ checkpoint: src, recipe, out, calib: 2, evalTokens: 64, data: "sotu", iters: 5 });
    assert.ok(Number.isFinite(r.delta));
    const ptq = readPtqConfig(out)!;
    assert.equal(ptq.recipe, recipe);
    const scales = readScales(out);
    const { params } = loadModel(out);
    const lay = paramLayout(cfg);
    for (const [name, meta] of Object.entries(ptq.weights)) {
      const t = lay.byName.get(name)!;
      const w = params.subarray(t.offset, t.offset + t.size);
      const [rows, cols] = t.shape;
      const s = scales.get(`${name}.scales`)!.data, col = scales.get(`${name}.col_scale`)?.data;
      const G = s.length / rows;
      for (let j = 0; j < rows; j++) {
        for (let k = 0; k < cols; k++) {
          const sc = s[j * G + Math.floor(k / meta.groupLen)] * (col ? col[k] : 1);
          const u = sc === 0 ? 0 : w[j * cols + k] / sc;
          assert.ok(nearGrid(meta.format, u), `${recipe} ${name}[${j},${k}] = ${w[j * cols + k]} / ${sc}`);
        }
      }
    }
    // deno task eval's path reads the same model: same loss on the same tokens
    const e = evalQuantized(out, val.subarray(0, 65), ptq);
    assert.ok(Math.abs(e.loss - r.lossAfter) < 1e-9, `${recipe}: eval ${e.loss} vs ptq ${r.lossAfter}`);
  }
});

Deno.test("bad input is refused with one line before any work", async () => {
  const src = floatCheckpoint();
  const out = Deno.makeTempDirSync();
  assert.throws(
    () => preparePtq({ checkpoint: src, recipe: "gptq-magic", out, data: "sotu" }),
    /unknown recipe "gptq-magic"/,
  );
  assert.throws(
    () => preparePtq({ checkpoint: src, recipe: "fpq", bits: "w3a3", out, data: "sotu" }),
    /bad --bits/,
  );
  assert.throws(
    () => preparePtq({ checkpoint: src, recipe: "fpq", calib: 1, out, data: "sotu" }),
    /too few calibration samples/,
  );
  assert.throws(
    () => preparePtq({ checkpoint: src, recipe: "fpq", scope: "all", out, data: "sotu" }),
    /--scope and --eval-images apply to DiT checkpoints/,
  );
  const other = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${other}/config.json`, JSON.stringify({ model_type: "gpt2", fp4lab: {} }));
  assert.throws(
    () => preparePtq({ checkpoint: other, recipe: "fpq", out, data: "sotu" }),
    /gpt2 checkpoint; ptq runs on llama and dit checkpoints/,
  );
  const p = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/ptq.ts", "--checkpoint", src, "--recipe", "nope", "--out", out],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(p.stderr).trim();
  assert.equal(p.code, 2);
  assert.equal(err.split("\n").length, 1);
  assert.match(err, /^ptq: unknown recipe "nope"/);
  assert.equal([...Deno.readDirSync(out)].length, 0);
});
