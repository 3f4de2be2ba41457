import assert from "node:assert/strict";
import type { Run } from "../lib/fit/data.ts";
import { bootstrapCI } from "../lib/fit/bootstrap.ts";
import { executeFit, planFit } from "../lib/fit/fit.ts";
import { leaveLargestOut } from "../lib/fit/extrapolate.ts";
import { grid } from "../lib/fit/multistart.ts";
import { makeRng } from "../lib/fit/random.ts";
import { syntheticRuns } from "../lib/fit/synthetic.ts";

function inside(ci: Record<string, [number, number]>, truth: Record<string, number>) {
  for (const [k, v] of Object.entries(truth)) {
    const [lo, hi] = ci[k];
    assert.ok(lo <= v && v <= hi, `${k}: truth ${v} outside [${lo}, ${hi}]`);
  }
}

Deno.test("Chinchilla with 1% noise: the truth lies inside the 95% bootstrap interval", () => {
  const t = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };
  const rng = makeRng(11), runs: Run[] = [];
  for (const N of [1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8, 3e8]) {
    for (const r of [5, 10, 20, 40, 80, 160, 320]) {
      const L = (t.E + t.A / N ** t.alpha + t.B / (N * r) ** t.beta) * Math.exp(0.01 * rng.normal());
      runs.push({ id: `${N}-${r}`, N, D: N * r, L, fwd: "", bwd: "", bits: [] });
    }
  }
  // A small grid keeps this test fast; the full 4,500-start grid is exercised in fit_recover_test.ts.
  const small = grid([0, 5, 10], [0.3, 0.6], [0, 5, 10], [0.3, 0.6], [0, 0.5]);
  const plan = planFit(runs, { form: "chinchilla", grid: small });
  const fit = executeFit(plan);
  const ci = bootstrapCI(plan, fit, { samples: 100, seed: 5 });
  assert.equal(ci.samples, 100);
  inside(ci.params, t);
  const ex = leaveLargestOut(runs, { form: "chinchilla", grid: small });
  assert.ok(ex && ex.heldOutN === 3e8 && ex.points.length === 7 && ex.meanAbsRelError < 0.05);
});

Deno.test("Quartet with 1% noise: true effN and effD lie inside the bootstrap intervals", () => {
  const runs = syntheticRuns({ noise: 0.01, seed: 21 });
  const plan = planFit(runs, { form: "quartet" });
  const fit = executeFit(plan);
  const ci = bootstrapCI(plan, fit, { samples: 100, seed: 2 });
  inside(ci.effN, { quest: 0.65, rtn: 0.6 });
  inside(ci.effD, { sr: 0.9 });
  inside(ci.params, { E: 1.35, gamma: 0.274, alpha: 0.589, beta: 0.544 });
});
