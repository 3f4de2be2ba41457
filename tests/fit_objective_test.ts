import assert from "node:assert/strict";
import { chinchilla } from "../lib/fit/forms/chinchilla.ts";
import { kumar } from "../lib/fit/forms/kumar.ts";
import { kumarPtq } from "../lib/fit/forms/kumar_ptq.ts";
import { quartet } from "../lib/fit/forms/quartet.ts";
import { quest } from "../lib/fit/forms/quest.ts";
import { defineForm, lawData } from "../lib/fit/law.ts";
import type { LawForm } from "../lib/fit/types.ts";
import { huber, makeObjective } from "../lib/fit/objective.ts";
import { lbfgs } from "../lib/fit/lbfgs.ts";
import { makeRng } from "../lib/fit/random.ts";

// Points spread so that, at the θ used below, some residuals fall inside ±δ and some outside.
function points(bits = false) {
  const rng = makeRng(3);
  const N: number[] = [], D: number[] = [], L: number[] = [], P: number[] = [];
  for (let i = 0; i < 24; i++) {
    N.push(10 ** (5 + 3 * rng.next()));
    D.push(10 ** (6 + 4 * rng.next()));
    L.push(2 + 2 * rng.next());
    P.push([3, 4, 6, 8, 16][i % 5]);
  }
  // Two efficiency labels and the baseline (−1), for QuEST.
  return lawData(N, D, L, bits ? [P] : [], N.map((_, i) => (i % 3) - 1));
}

const ctx = { baseline: "bf16", bitsColumns: ["fwd_bits"], labels: ["a", "b"] };

function checkGradient(form: LawForm, theta: number[], delta: number, weights?: Float64Array) {
  const data = points(form.reads.bits);
  const names = form.layout(ctx).names;
  assert.equal(names.length, theta.length);
  const f = makeObjective(form, data, { delta, theta: Float64Array.from(theta), weights });
  const x = Float64Array.from(theta), g = new Float64Array(x.length), tmp = new Float64Array(x.length);
  const f0 = f(x, g);
  assert.ok(Number.isFinite(f0) && f0 > 0);
  for (let k = 0; k < x.length; k++) {
    const h = 1e-6 * Math.max(1, Math.abs(x[k]));
    const xp = Float64Array.from(x), xm = Float64Array.from(x);
    xp[k] += h, xm[k] -= h;
    const fd = (f(xp, tmp) - f(xm, tmp)) / (2 * h);
    const scale = Math.max(Math.abs(fd), Math.abs(g[k]), 1e-8 * Math.abs(f0));
    assert.ok(
      Math.abs(fd - g[k]) <= 1e-5 * scale,
      `${form.name} ∂/∂${names[k]}: analytic ${g[k]} vs FD ${fd}`,
    );
  }
}

Deno.test("Huber: quadratic inside δ, linear outside, continuous at δ", () => {
  assert.equal(huber(0.5e-3, 1e-3), 0.5 * 0.25e-6);
  assert.ok(Math.abs(huber(3e-3, 1e-3) - 1e-3 * (3e-3 - 0.5e-3)) < 1e-18);
  assert.ok(Math.abs(huber(1e-3 + 1e-12, 1e-3) - huber(1e-3, 1e-3)) < 1e-14);
});

Deno.test("objective gradient matches finite differences: Chinchilla", () => {
  checkGradient(chinchilla, [6, 0.34, 6.5, 0.28, 0.4], 0.05);
});

Deno.test("objective gradient matches finite differences: Quartet (base and efficiencies)", () => {
  checkGradient(quartet, [12, 0.59, 13, 0.54, 0.3, 0.27, Math.log(0.6), Math.log(0.9)], 0.05);
});

Deno.test("objective gradient matches finite differences: Kumar, weighted", () => {
  const w = Float64Array.from({ length: 24 }, (_, i) => i % 3);
  checkGradient(kumar, [6, 0.34, 6.5, 0.28, 0.4, Math.log(2.7)], 0.05, w);
});

Deno.test("objective gradient matches finite differences: QuEST (two efficiency labels and the baseline)", () => {
  checkGradient(quest, [6, 0.34, 6.5, 0.28, 0.4, Math.log(0.6), Math.log(0.8)], 0.05);
});

Deno.test("objective gradient matches finite differences: Kumar PTQ", () => {
  checkGradient(kumarPtq, [-3, 0.2, 0.4, Math.log(1.5)], 0.05);
});

Deno.test("a form without a gradient gets central finite differences that match the analytic one", () => {
  const fd = defineForm({
    name: "chinchilla-fd",
    names: ["a", "alpha", "b", "beta", "e"],
    starts: [[0, 0, 0, 0, 0]],
    lnPredict: (t, d, i) => chinchilla.lnPredict(t, d, i, null),
  });
  const data = points(), t = Float64Array.from([6, 0.34, 6.5, 0.28, 0.4]);
  const ga = new Float64Array(5), gf = new Float64Array(5);
  for (let i = 0; i < data.n; i++) {
    assert.equal(fd.lnPredict(t, data, i, gf), chinchilla.lnPredict(t, data, i, ga));
    for (let k = 0; k < 5; k++) {
      assert.ok(Math.abs(gf[k] - ga[k]) <= 1e-7 * Math.max(1, Math.abs(ga[k])), `${k}`);
    }
  }
});

Deno.test("objective is a sum over points, not a mean", () => {
  const data = points();
  const theta = Float64Array.from([6, 0.34, 6.5, 0.28, 0.4]);
  const f = makeObjective(chinchilla, data, { delta: 1e-3, theta });
  const twice = makeObjective(chinchilla, data, {
    delta: 1e-3,
    theta,
    weights: new Float64Array(24).fill(2),
  });
  const g = new Float64Array(5);
  assert.ok(Math.abs(twice(theta, g) - 2 * f(theta, g)) < 1e-15);
});

Deno.test("L-BFGS minimises the Rosenbrock function", () => {
  const r = lbfgs(
    (x, g) => {
      const a = 1 - x[0], b = x[1] - x[0] * x[0];
      g[0] = -2 * a - 400 * x[0] * b;
      g[1] = 200 * b;
      return a * a + 100 * b * b;
    },
    [-1.2, 1],
    { maxIter: 500, ftol: 1e-15 },
  );
  assert.ok(Math.abs(r.x[0] - 1) < 1e-6 && Math.abs(r.x[1] - 1) < 1e-6, `ended at ${r.x}`);
});
