import assert from "node:assert/strict";
import type { Run } from "../lib/fit/data.ts";
import { fitRuns } from "../lib/fit/fit.ts";
import { syntheticRuns } from "../lib/fit/synthetic.ts";

/** Noise-free grid from a law: sizes × ratios (× bits for Kumar). */
function gridRuns(
  law: (N: number, D: number, P: number) => number,
  bits: number[] = [16],
  sizes = [1e6, 3e6, 1e7, 3e7, 1e8, 3e8],
  ratios = [5, 10, 20, 50, 100, 200, 400],
): Run[] {
  const runs: Run[] = [];
  for (const N of sizes) {
    for (const r of ratios) {
      for (const P of bits) {
        runs.push({ id: `${N}-${r}-${P}`, N, D: N * r, L: law(N, N * r, P), fwd: "", bwd: "", bits: [P] });
      }
    }
  }
  return runs;
}

function assertRel(actual: Record<string, number>, truth: Record<string, number>, tol = 1e-4) {
  for (const [k, v] of Object.entries(truth)) {
    assert.ok(Math.abs(actual[k] / v - 1) <= tol, `${k}: fitted ${actual[k]}, true ${v}`);
  }
}

Deno.test("Chinchilla form: noise-free data recovers its parameters to 1e-4 (4,500-start grid)", () => {
  const t = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };
  const fit = fitRuns(gridRuns((N, D) => t.E + t.A / N ** t.alpha + t.B / D ** t.beta), {
    form: "chinchilla",
  });
  assertRel(fit.params, t);
  assert.equal(fit.points, 42);
  assert.ok(fit.objective < 1e-20, `objective ${fit.objective}`);
});

Deno.test("Quartet form: noise-free data recovers base constants, effN, effD and joint effs to 1e-4", () => {
  const fit = fitRuns(syntheticRuns({ noise: 0 }), { form: "quartet" });
  assertRel(fit.params, { A: 1.52e5, alpha: 0.589, B: 5.25e5, beta: 0.544, E: 1.35, gamma: 0.274 });
  assertRel(fit.effN, { quest: 0.65, rtn: 0.6, "quest:sr": 0.65 });
  assertRel(fit.effD, { sr: 0.9, "quest:sr": 0.9 });
  assert.deepEqual(Object.keys(fit.objectives).sort(), [
    "base",
    "effD:sr",
    "effN:quest",
    "effN:rtn",
    "joint:quest:sr",
  ]);
  assert.equal(fit.delta, 1e-4);
});

Deno.test("Kumar form: noise-free data recovers its parameters and γ to 1e-4", () => {
  const t = { E: 2.7648, A: 4299, B: 18060, alpha: 0.4965, beta: 0.45, gamma: 2.6745 };
  const law = (N: number, D: number, P: number) =>
    t.E + t.A / (N * (1 - Math.exp(-P / t.gamma))) ** t.alpha + t.B / D ** t.beta;
  const runs = gridRuns(law, [3, 4, 6, 8, 16], [1e6, 1e7, 1e8, 1e9], [5, 20, 80, 320]);
  const fit = fitRuns(runs, { form: "kumar" });
  assertRel(fit.params, t);
});
