import assert from "node:assert/strict";
import {
  ATTENTION_RECIPES,
  attentionRecipe,
  checkTrainable,
  FP32_ATTENTION,
} from "../lib/attention/recipes.ts";
import { fakeQuant } from "../lib/attention/quant.ts";
import {
  compare,
  exactBackward,
  exactForward,
  headBackward,
  headForward,
  type HeadProblem,
} from "../lib/attention/reference.ts";
import { gauss } from "../lib/formats/testdata.ts";

function near(a: number, b: number, tol: number, msg = ""): void {
  assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b} (tol ${tol})`);
}

/** Random head: Gaussian Q, K, V with a few outlier channels in K and a shared offset (what smoothing removes). */
function problem(T: number, hd: number, causal: boolean, seed: number, keys?: number): HeadProblem {
  const mk = (s: number, off: number, outl: number) => {
    const x = new Float32Array(T * hd);
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < hd; d++) {
        x[t * hd + d] = gauss(seed * 7 + s, t * hd + d) + off * Math.sin(d) + (d % 13 === 3 ? outl : 0);
      }
    }
    return x;
  };
  return { q: mk(1, 1.5, 0), k: mk(2, 3, 6), v: mk(3, 0, 0), T, hd, causal, keys };
}

const cases: [number, number, boolean, number | undefined][] = [
  [48, 16, true, undefined],
  [64, 32, false, 50],
  [64, 64, true, undefined],
  [32, 128, false, undefined],
];

Deno.test("fp32 recipe: forward and backward equal exact attention (causal and bidirectional, hd 16–128)", () => {
  for (const [T, hd, causal, keys] of cases) {
    const p = problem(T, hd, causal, T + hd, keys);
    const fw = headForward(FP32_ATTENTION, p);
    const ex = exactForward(p);
    const c = compare(fw.o, ex);
    assert.ok(c.relL2 < 1e-5, `fwd T${T} hd${hd}: ${c.relL2}`);
    const dO = problem(T, hd, causal, 99).v;
    const g = headBackward(FP32_ATTENTION, p, fw, dO);
    const eg = exactBackward(p, dO);
    for (const k of ["dq", "dk", "dv"] as const) {
      const e = compare(g[k], eg[k]);
      assert.ok(e.relL2 < 1e-4, `${k} T${T} hd${hd}: ${e.relL2}`);
    }
  }
});

Deno.test("exact backward agrees with finite differences", () => {
  const p = problem(6, 4, true, 3);
  const dO = problem(6, 4, true, 4).v;
  const g = exactBackward(p, dO);
  const loss = (pp: HeadProblem) => exactForward(pp).reduce((s, o, i) => s + o * dO[i], 0);
  for (const [name, key] of [["dq", "q"], ["dk", "k"], ["dv", "v"]] as const) {
    for (const idx of [0, 5, 13, 22]) {
      const h = 1e-3;
      const up = { ...p, [key]: Float32Array.from(p[key]) }, dn = { ...p, [key]: Float32Array.from(p[key]) };
      up[key][idx] += h;
      dn[key][idx] -= h;
      const fd = (loss(up) - loss(dn)) / (up[key][idx] - dn[key][idx]);
      near(g[name][idx], fd, 2e-3 * Math.max(1, Math.abs(fd)), `${name}[${idx}]`);
    }
  }
});

Deno.test("smoothing with ΔS and the ×448·6 P scale are exact without quantization", () => {
  const sage = attentionRecipe("sage3");
  const unq = { ...sage, qk: "f32", v: "f32", p: "f32" } as const;
  for (const [T, hd, causal, keys] of [...cases, [300, 16, true, undefined] as const]) {
    const p = problem(T, hd, causal, 5, keys);
    const ex = exactForward(p);
    const c = compare(headForward(unq, p).o, ex);
    assert.ok(c.relL2 < 2e-5, `T${T} hd${hd}: ${c.relL2}`);
  }
});

Deno.test("operand groups: NVFP4 E4M3(amax/6) per 16 along rows, along tokens for V; INT8 blocks amax/127", () => {
  const x = new Float32Array(32);
  x[0] = 6; // amax 6 → scale 1: E2M1 grid
  x[1] = 0.3; // → 0.5 (nearest of 0, 0.5)
  x[2] = 2.6; // → 3 (2.5 is the 2/3 midpoint)
  x[16] = 12; // second group: scale 2
  x[17] = 5; // 5/2 = 2.5 → 2 (half-even between 2 and 3: ties to the even code 2)
  const y = fakeQuant(x, 1, 32, "nvfp4", "qk", 64);
  assert.deepEqual([y[0], y[1], y[2], y[16], y[17]], [6, 0.5, 3, 12, 4]);
  // V: groups of 16 tokens down each column
  const v = new Float32Array(32 * 2);
  v[0] = 6;
  v[2] = 0.3;
  v[32] = 12;
  v[34] = 5;
  const vy = fakeQuant(v, 32, 2, "nvfp4", "v", 64);
  assert.deepEqual([vy[0], vy[2], vy[32], vy[34]], [6, 0.5, 12, 4]);
  // INT8 per block of tile rows × all columns
  const z = new Float32Array(8 * 2).map((_, i) => i);
  const zy = fakeQuant(z, 8, 2, "int8-block", "tok", 4);
  near(zy[3], Math.round((3 / 7) * 127) * (7 / 127), 1e-6);
  near(zy[9], Math.round((9 / 15) * 127) * (15 / 127), 1e-5);
});

Deno.test("quantized recipes: close to exact; the paper's ablation orderings hold on outlier data", () => {
  const p = problem(128, 64, true, 11);
  const ex = exactForward(p);
  const cos: Record<string, number> = {};
  for (const r of ATTENTION_RECIPES) cos[r.name] = compare(headForward(r, p).o, ex).cosSim;
  assert.ok(cos.fp32 > 0.99999 && cos.bf16 > 0.9999, JSON.stringify(cos));
  assert.ok(cos.sagebwd > 0.999, JSON.stringify(cos));
  assert.ok(cos.sage3 > 0.98, JSON.stringify(cos));
  assert.ok(cos.sage3 > cos["sage3-mxfp4"], `NVFP4 > MXFP4: ${JSON.stringify(cos)}`);
  assert.ok(cos.sage3 > cos["sage3-direct-p"], `two-level > direct: ${JSON.stringify(cos)}`);
  assert.ok(cos.sage3 > cos["sage3-no-smooth"], `smoothing helps: ${JSON.stringify(cos)}`);
});

Deno.test("sagebwd backward: INT8 gradients close to exact; dP in FP16 beats INT8 on dQ", () => {
  const p = problem(128, 32, true, 21);
  const dO = problem(128, 32, true, 22).v;
  const eg = exactBackward(p, dO);
  const res: Record<string, number> = {};
  for (const name of ["sagebwd", "sagebwd-int8-dp"]) {
    const r = attentionRecipe(name);
    const g = headBackward(r, p, headForward(r, p), dO);
    for (const k of ["dq", "dk", "dv"] as const) res[`${name}.${k}`] = compare(g[k], eg[k]).cosSim;
  }
  assert.ok(
    res["sagebwd.dq"] > 0.99 && res["sagebwd.dk"] > 0.99 && res["sagebwd.dv"] > 0.999,
    JSON.stringify(res),
  );
  assert.ok(res["sagebwd.dq"] > res["sagebwd-int8-dp.dq"], JSON.stringify(res));
});

Deno.test("recipe lookup: unknown names suggest, inference recipes refuse to train", () => {
  assert.throws(() => attentionRecipe("sage"), /did you mean/);
  assert.throws(() => checkTrainable(attentionRecipe("sage3")), /inference-only/);
  checkTrainable(attentionRecipe("sagebwd"));
});
