/**
 * Stochastic rounding: unbiased within a stated statistical bound, reproducible by seed, different
 * across seeds, and identical on the GPU for the same seed.
 */
import assert from "node:assert/strict";
import { ELEMENTS } from "../lib/formats/elements.ts";
import { quantizeElement } from "../lib/formats/quantize.ts";
import { rngUniform } from "../lib/formats/rng.ts";
import { specFor } from "../lib/formats/presets.ts";
import { quantizeTensor } from "../lib/formats/scaling.ts";
import { gauss } from "../lib/formats/testdata.ts";
import { quantizeGpu } from "../kernels/formats/run.ts";

const N = 1 << 15;

/**
 * Bound: for a value between grid neighbours lo < hi, one SR draw has variance (x−lo)(hi−x) ≤ (hi−lo)²/4.
 * The mean of N independent draws must lie within 5 standard errors (two-sided p ≈ 6e-7 per check;
 * the streams are deterministic, so a pass is reproducible). Also allowed: the 2^−24 resolution of u.
 */
function assertUnbiased(name: string, x: number, draws: Float64Array, lo: number, hi: number): void {
  const mean = draws.reduce((a, v) => a + v, 0) / draws.length;
  const sd = Math.sqrt(Math.max((x - lo) * (hi - x), 0));
  const bound = (5 * sd) / Math.sqrt(draws.length) + (hi - lo) * 2 ** -24;
  assert.ok(Math.abs(mean - x) <= bound, `${name}(${x}): mean ${mean}, bound ${bound}`);
}

Deno.test("SR is unbiased per value (element formats, 2^15 draws per value)", () => {
  const values: [string, number, number, number][] = [
    ["e2m1", 0.3, 0, 0.5],
    ["e2m1", -2.6, -3, -2],
    ["e2m1", 5.9, 4, 6],
    ["e4m3", 100.5, 96, 104],
    ["e5m2", 0.0001, 0.00009155273437500, 0.0001068115234375],
    ["int4", 3.25, 3, 4],
    ["int8", -99.9, -100, -99],
    ["fp16", 1 + 2 ** -12, 1, 1 + 2 ** -10],
    ["bf16", Math.fround(1.001), 1, 1.0078125],
  ];
  for (const [name, x, lo, hi] of values) {
    const f = ELEMENTS[name];
    const d = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      d[i] = quantizeElement(f, x, rngUniform(17, i));
      assert.ok(d[i] === lo || d[i] === hi, `${name}(${x}) → ${d[i]}`);
    }
    assertUnbiased(name, Math.fround(x), d, Math.min(lo, hi), Math.max(lo, hi));
  }
});

Deno.test("SR tensor mean error stays within the bound (mxfp4 on Gaussians, 64 repeats)", () => {
  // E[Q(x)] = x inside the range: the average of 64 seeds approaches x with no systematic offset.
  // E8M0 scale 2^ceil(log2(amax/6)) (rule "absmax") never clips, so every value is inside the grid.
  const n = 1 << 12, reps = 64;
  const x = new Float32Array(n).map((_, i) => gauss(2, i));
  const base = specFor("mxfp4");
  const spec = { ...base, scale: { ...base.scale, rule: "absmax" as const } };
  const acc = new Float64Array(n);
  for (let s = 0; s < reps; s++) {
    const r = quantizeTensor(x, { ...spec, rounding: "stochastic", seed: s });
    for (let i = 0; i < n; i++) acc[i] += r.values[i];
  }
  const nearest = quantizeTensor(x, spec);
  let bias = 0, clipped = 0, varBound = 0;
  for (let i = 0; i < n; i++) {
    if (!nearest.mask[i]) {
      clipped++;
      continue;
    }
    bias += acc[i] / reps - x[i];
    const step = nearest.scales[i >> 5] * 2; // largest E2M1 step is 2 (4 → 6), an upper bound
    varBound += (step * step) / 4 / reps;
  }
  assert.equal(clipped, 0);
  assert.ok(
    Math.abs(bias) <= 5 * Math.sqrt(varBound),
    `total bias ${bias}, bound ${5 * Math.sqrt(varBound)}`,
  );
});

Deno.test("SR is reproducible by seed and differs across seeds (TS and GPU)", async () => {
  const x = new Float32Array(1 << 14).map((_, i) => gauss(3, i));
  const spec = (seed: number) => ({ ...specFor("mxfp4"), rounding: "stochastic" as const, seed });
  const a = quantizeTensor(x, spec(1)).values,
    b = quantizeTensor(x, spec(1)).values,
    c = quantizeTensor(x, spec(2)).values;
  assert.deepEqual(a, b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff += a[i] !== c[i] ? 1 : 0;
  assert.ok(diff > x.length / 10, `only ${diff} differ across seeds`);
  const g1 = await quantizeGpu(x, spec(1)), g2 = await quantizeGpu(x, spec(1));
  assert.deepEqual(g1.values, a);
  assert.deepEqual(g2.values, a);
});
