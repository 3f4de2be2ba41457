/** MNIST split and batches; DDPM schedule, q_sample, training draws, validation tuples, DDIM. */
import assert from "node:assert/strict";
import { loadMnist, MNIST_PIXELS, MnistBatches } from "../lib/data/mnist.ts";
import {
  ddimSample,
  ddimTimesteps,
  ddpmSchedule,
  qSample,
  trainingDraw,
  validationTuples,
} from "../lib/models/dit/diffusion.ts";
import { dataSourceProblem } from "../lib/spec/data.ts";

Deno.test("mnist: 9,000/1,000 deterministic split, [-1, 1] pixels, seeded batches", () => {
  const m = loadMnist();
  assert.equal(m.train.count, 9000);
  assert.equal(m.val.count, 1000);
  assert.equal(m.train.images.length, 9000 * MNIST_PIXELS);
  let lo = Infinity, hi = -Infinity;
  for (const v of m.val.images) lo = Math.min(lo, v), hi = Math.max(hi, v);
  assert.equal(lo, -1);
  assert.equal(hi, 1);
  const perClass = new Array(10).fill(0);
  for (const y of m.val.labels) perClass[y]++;
  assert.deepEqual(perClass, [100, 112, 99, 104, 98, 86, 101, 107, 95, 98]);
  const a = new MnistBatches(m.train, 16, 3), b = new MnistBatches(m.train, 16, 3);
  assert.deepEqual(a.at(700), b.at(700)); // pure function of (seed, step), any order
  assert.notDeepEqual(a.at(0).labels, new MnistBatches(m.train, 16, 4).at(0).labels);
  // One epoch visits every training image once.
  const seen = new Set<number>();
  const e = new MnistBatches(m.train, 1000, 1);
  for (let s = 0; s < 9; s++) {
    const { images } = e.at(s);
    for (let i = 0; i < 1000; i++) {
      seen.add(images.subarray(i * 784, i * 784 + 784).reduce((x, v, k) => x + v * (k + 1), 0));
    }
  }
  assert.ok(seen.size > 8900, `${seen.size} distinct images in one epoch`);
  assert.equal(dataSourceProblem("mnist"), undefined); // a known name for specs
});

Deno.test("diffusion: linear schedule, q_sample, training draws, validation grid", () => {
  const { betas, alphasCumprod } = ddpmSchedule();
  assert.equal(betas.length, 1000);
  assert.equal(betas[0], 1e-4);
  assert.equal(betas[999], 0.02);
  assert.ok(Math.abs(alphasCumprod[999] - 4.0358e-5) < 1e-8, `ᾱ_999 = ${alphasCumprod[999]}`);
  const x0 = new Float32Array([1, -1, 0.5, 0.25]), noise = new Float32Array([0.3, 0.1, -2, 1]);
  const xt = qSample(x0, [0, 999], noise);
  assert.ok(Math.abs(xt[0] - (Math.sqrt(1 - 1e-4) + Math.sqrt(1e-4) * 0.3)) < 1e-6);
  assert.ok(
    Math.abs(xt[3] - (Math.sqrt(alphasCumprod[999]) * 0.25 + Math.sqrt(1 - alphasCumprod[999]))) < 1e-6,
  );
  const labels = new Int32Array(4000).fill(3);
  const d = trainingDraw(7, 12, labels, 2, 10);
  assert.deepEqual(d, trainingDraw(7, 12, labels, 2, 10));
  const dropped = d.y.filter((y) => y === 10).length;
  assert.ok(dropped > 330 && dropped < 470, `dropped ${dropped} of 4000`);
  assert.ok(d.t.every((t) => t >= 0 && t < 1000) && d.t.some((t) => t > 990) && d.t.some((t) => t < 10));
  const m = loadMnist();
  const v = validationTuples(m.val, 1000, 1);
  assert.equal(v.t[0], 0);
  assert.equal(v.t[999], 999);
  assert.equal(v.t[500], 500);
  assert.equal(
    new Set(Array.from({ length: 1000 }, (_, i) => v.x0[i * 784 + 400] + 7 * v.y[i])).size > 50,
    true,
  );
  assert.deepEqual(v, validationTuples(m.val, 1000, 1));
});

Deno.test("ddim: exact ε predictor of a point mass recovers it; guidance mixes conditional and null", async () => {
  assert.deepEqual(ddimTimesteps(50).slice(0, 3), [0, 20, 40]);
  assert.equal(ddimTimesteps(50)[49], 980);
  const ac = ddpmSchedule().alphasCumprod;
  // Data = the constant image c_y (per class): the optimal ε̂ is (x − √ᾱ·c)/√(1−ᾱ).
  const target = (y: number) => (y === 10 ? 0 : -0.9 + 0.2 * y);
  const predict = (x: Float32Array, t: Int32Array, y: Int32Array) => {
    const per = x.length / t.length;
    return Float64Array.from(x, (v, i) => {
      const b = Math.floor(i / per), a = ac[t[b]];
      return (v - Math.sqrt(a) * target(y[b])) / Math.sqrt(1 - a);
    });
  };
  const labels = new Int32Array([0, 4, 9]);
  const out = await ddimSample(predict, { labels, perImage: 5, nullClass: 10, steps: 20, cfg: 1, seed: 2 });
  for (let i = 0; i < out.length; i++) assert.ok(Math.abs(out[i] - target(labels[Math.floor(i / 5)])) < 1e-5);
  // With guidance s the effective target is (1−s)·c_∅ + s·c_y = s·c_y here (clip off to see it).
  const g = await ddimSample(predict, {
    labels,
    perImage: 5,
    nullClass: 10,
    steps: 20,
    cfg: 1.5,
    seed: 2,
    clip: false,
    maxBatch: 2,
  });
  for (let i = 0; i < g.length; i++) {
    assert.ok(Math.abs(g[i] - 1.5 * target(labels[Math.floor(i / 5)])) < 1e-5);
  }
});

Deno.test("ddim η: η = 1 still recovers a point mass, draws fresh noise per seed, and is refused outside [0, 1]", async () => {
  const ac = ddpmSchedule().alphasCumprod;
  const target = (y: number) => (y === 10 ? 0 : -0.9 + 0.2 * y);
  const predict = (x: Float32Array, t: Int32Array, y: Int32Array) => {
    const per = x.length / t.length;
    return Float64Array.from(x, (v, i) => {
      const b = Math.floor(i / per), a = ac[t[b]];
      return (v - Math.sqrt(a) * target(y[b])) / Math.sqrt(1 - a);
    });
  };
  const labels = new Int32Array([0, 4, 9]);
  const o = { labels, perImage: 5, nullClass: 10, steps: 20, cfg: 1, seed: 2 };
  // The exact ε̂ puts x̂₀ on the target at every step; the last step (ᾱ_prev = 1) has σ = 0.
  const out = await ddimSample(predict, { ...o, eta: 1 });
  for (let i = 0; i < out.length; i++) assert.ok(Math.abs(out[i] - target(labels[Math.floor(i / 5)])) < 1e-5);
  // A predictor that is not exact: η = 1 differs from η = 0, is fixed by the seed, and changes with it.
  const rough = (x: Float32Array) => Float64Array.from(x, (v) => 0.5 * v);
  const d0 = await ddimSample(rough, { ...o, clip: false });
  const d1 = await ddimSample(rough, { ...o, clip: false, eta: 1 });
  const d1again = await ddimSample(rough, { ...o, clip: false, eta: 1 });
  const d1other = await ddimSample(rough, { ...o, clip: false, eta: 1, seed: 3 });
  assert.notDeepEqual(d0, d1);
  assert.deepEqual(d1, d1again);
  assert.notDeepEqual(d1, d1other);
  await assert.rejects(() => ddimSample(rough, { ...o, eta: 1.5 }), /eta must be in \[0, 1\]/);
});
