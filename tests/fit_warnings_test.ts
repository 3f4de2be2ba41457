import assert from "node:assert/strict";
import type { Run } from "../lib/fit/data.ts";
import { fitRuns } from "../lib/fit/fit.ts";
import { fitSummary, fitText } from "../lib/fit/report.ts";
import { syntheticRuns } from "../lib/fit/synthetic.ts";
import { fitWarnings } from "../lib/fit/warnings.ts";

/** A tiny, noisy Quartet baseline in which the loss rises with N (as single seeds can make it). */
function degenerateRuns(): Run[] {
  const rows: [number, number, number][] = [
    [13408, 13312, 2.83],
    [13408, 53760, 2.49],
    [26784, 26624, 2.7],
    [26784, 107008, 2.19],
    [53440, 53248, 2.56],
    [53440, 214016, 2.35],
    [53440, 107008, 2.45],
  ];
  return rows.map(([N, D, L], k) => ({ id: `r${k}`, N, D, L, fwd: "bf16", bwd: "bf16", bits: [] }));
}

Deno.test("fit: exponents stay positive by default; a degenerate fit says why in warnings", () => {
  const fit = fitRuns(degenerateRuns(), { form: "quartet" });
  for (const k of ["alpha", "beta", "gamma"]) assert.ok(fit.params[k] > 0, `${k} = ${fit.params[k]}`);
  assert.ok(
    fit.warnings.some((w) => /ill-determined: 7 baseline points for 6 parameters/.test(w)),
    fit.warnings.join("\n"),
  );
  assert.deepEqual(fitWarnings(fit), fit.warnings);
  const summary = fitSummary(fit);
  assert.deepEqual(summary.warnings, fit.warnings);
  assert.match(fitText(fit), /WARNING: the fit is degenerate or ill-determined:\n {2}- /);
});

Deno.test("fit: a loss that rises with N puts alpha at its bound (constrained) or below 0 (unconstrained)", () => {
  // Chinchilla with the N term reversed: L = 1.5 + 30·N^0.2/… — α would have to be negative.
  const runs: Run[] = [];
  for (const N of [1e6, 3e6, 1e7, 3e7]) {
    for (const r of [10, 20, 40, 80]) {
      const D = N * r;
      runs.push({
        id: `${N}-${r}`,
        N,
        D,
        L: 1.5 + 0.02 * N ** 0.1 + 400 / D ** 0.3,
        fwd: "",
        bwd: "",
        bits: [],
      });
    }
  }
  const fit = fitRuns(runs, { form: "chinchilla" });
  // α cannot go below 0, so the N term is removed instead: α → 0 (term constant) or α → ∞ (term vanishes).
  assert.ok(fit.params.alpha > 0, `alpha ${fit.params.alpha}`);
  assert.ok(
    fit.warnings.some((w) => /^alpha = .* is (at its lower bound 0|implausibly large)/.test(w)),
    fit.warnings.join("\n"),
  );
  const free = fitRuns(runs, { form: "chinchilla", unconstrained: true });
  assert.ok(free.params.alpha < 0, `unconstrained alpha ${free.params.alpha}`);
  assert.ok(free.warnings.some((w) => /^alpha = .* is not positive/.test(w)), free.warnings.join("\n"));
  assert.equal(fitSummary(free).unconstrained, true);
});

Deno.test("fit: noise-free data on a good grid gives no warnings; wide bootstrap and extrapolation errors do", () => {
  const fit = fitRuns(syntheticRuns({ noise: 0 }), { form: "quartet" });
  assert.deepEqual(fit.warnings, []);
  fit.ci = {
    level: 0.95,
    samples: 10,
    params: { alpha: [0.5, 0.6], beta: [0.01, 2], A: [1, 1e9], B: [1e5, 1e6] },
    effN: { quest: [0.6, 0.7] },
    effD: {},
  };
  fit.extrapolation = { heldOutN: 3e8, points: [], meanAbsRelError: 0.05, maxAbsRelError: 0.08 };
  const w = fitWarnings(fit);
  assert.equal(w.length, 3, w.join("\n"));
  assert.match(
    w[0],
    /^beta: 95% bootstrap interval \[0\.0100, 2\.00\] spans 3\.66× the estimate 0\.544 \(more than 0\.500×\)/,
  );
  assert.match(w[1], /^A: 95% bootstrap interval \[1\.00, 1\.00e\+9\] spans more than 1\.00e\+3×/);
  assert.match(w[2], /leave-largest-model-out: .* 5\.0% \(> 2%\)/);
});

Deno.test("fit: an interval of 0.96–1.77 on E ≈ 1.35 is flagged; the width threshold is an option", () => {
  const fit = fitRuns(syntheticRuns({ noise: 0 }), { form: "quartet" });
  fit.ci = { level: 0.95, samples: 10, params: { E: [0.96, 1.77] }, effN: {}, effD: {} };
  const w = fitWarnings(fit);
  assert.equal(w.length, 1, w.join("\n"));
  assert.match(w[0], /^E: 95% bootstrap interval \[0\.960, 1\.77\] spans 0\.600× the estimate 1\.35/);
  assert.deepEqual(fitWarnings(fit, { ciWidth: 0.7 }), []);
  fit.warningOptions = { ciWidth: 0.7 }; // what the CLI's --ci-width sets; fitSummary honours it
  assert.deepEqual(fitSummary(fit).warnings, []);
});
