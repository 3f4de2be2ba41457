/** Fixed base parameters (`fixed` / `--fix NAME=V`): held exactly, the rest fitted, bad names refused. */
import assert from "node:assert/strict";
import { bootstrapCI } from "../lib/fit/bootstrap.ts";
import { executeFit, planFit } from "../lib/fit/fit.ts";
import { FitInputError } from "../lib/fit/errors.ts";
import { syntheticRuns } from "../lib/fit/synthetic.ts";
import { fitSummary, fitText } from "../lib/fit/report.ts";

// The γ = 1 variant of the Quartet law (quartet.md §1.2, "Hoffmann"), tiny-model constants.
const truth = { A: 40, alpha: 0.45, B: 60, beta: 0.35, E: 0.8, gamma: 1 };
const runs = () => syntheticRuns({ params: truth, noise: 0.002, effN: { quest: 0.6 }, effD: { sr: 0.85 } });

Deno.test("fixed: gamma held at 1 exactly; α, β and the efficiencies recovered", () => {
  const plan = planFit(runs(), { form: "quartet", fixed: { gamma: 1 } });
  assert.deepEqual(plan.tasks[0].free, [0, 1, 2, 3, 4]);
  const fit = executeFit(plan);
  assert.equal(fit.params.gamma, 1);
  assert.deepEqual(fit.fixed, { gamma: 1 });
  for (const k of ["alpha", "beta"] as const) {
    assert.ok(Math.abs(fit.params[k] / truth[k] - 1) < 0.1, `${k} ${fit.params[k]} vs ${truth[k]}`);
  }
  assert.ok(Math.abs(fit.effN.quest / 0.6 - 1) < 0.1, `effN ${fit.effN.quest}`);
  assert.ok(Math.abs(fit.effD.sr / 0.85 - 1) < 0.1, `effD ${fit.effD.sr}`);
  fit.ci = bootstrapCI(plan, fit, { samples: 20 });
  assert.deepEqual(fit.ci.params.gamma, [1, 1]);
  assert.deepEqual(fitSummary(fit).fixed, { gamma: 1 });
  assert.match(fitText(fit), /gamma fixed at 1/);
  // Without the constraint the same data are fitted with γ free (not exactly 1).
  const free = executeFit(planFit(runs(), { form: "quartet" }));
  assert.notEqual(free.params.gamma, 1);
  assert.equal(free.fixed, undefined);
});

Deno.test("fixed: unknown or non-base names and non-finite values are input errors", () => {
  assert.throws(() => planFit(runs(), { form: "quartet", fixed: { delta: 1 } }), FitInputError);
  assert.throws(
    () => planFit(runs(), { form: "quartet", fixed: { lnEffN: 0 } }),
    /base parameters are a, alpha/,
  );
  assert.throws(() => planFit(runs(), { form: "quartet", fixed: { gamma: NaN } }), FitInputError);
  assert.throws(
    () => planFit(runs(), { form: "chinchilla", fixed: { a: 1, alpha: 0.3, b: 1, beta: 0.3, e: 0 } }),
    /nothing to fit/,
  );
});
