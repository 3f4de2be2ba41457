import assert from "node:assert/strict";
import { bootstrapCI } from "../lib/fit/bootstrap.ts";
import { parseTable, toRuns } from "../lib/fit/data.ts";
import { executeFit, fitRuns } from "../lib/fit/execute.ts";
import { planFit } from "../lib/fit/plan.ts";
import { predictLoss } from "../lib/fit/query.ts";
import { makeRng } from "../lib/fit/random.ts";
import type { Run } from "../lib/fit/types.ts";

const QUEST = { E: 1.8, A: 406.4, alpha: 0.34, B: 410.7, beta: 0.28 };
const EFF: Record<string, number> = { bf16: 1, fp8: 0.9, fp4: 0.6 };

/** QuEST-law runs: 5 sizes × 5 token ratios × 3 precisions, multiplicative log-normal noise σ. */
function questRuns(noise: number): Run[] {
  const rng = makeRng(11), runs: Run[] = [];
  for (const N of [2e6, 6e6, 2e7, 6e7, 2e8]) {
    for (const r of [5, 10, 20, 50, 100]) {
      for (const label of Object.keys(EFF)) {
        const D = N * r, p = QUEST;
        const L = (p.E + p.A / (N * EFF[label]) ** p.alpha + p.B / D ** p.beta) *
          Math.exp(noise * rng.normal());
        runs.push({ id: `${label}-${N}-${r}`, N, D, L, fwd: label, bwd: "bf16", bits: [] });
      }
    }
  }
  return runs;
}

const PTQ = { C_T: 2, gammaN: 0.5, gammaD: 0.4, gammaPost: 1.2 };

/** A CSV as a published PTQ data set would come: N, D, P bits and δ. */
function ptqCsv(noise: number): string {
  const rng = makeRng(5), lines = ["N,D,P,delta"];
  for (const N of [1e6, 5e6, 2e7, 1e8]) {
    for (const r of [10, 40, 160]) {
      for (const P of [3, 4, 5, 6, 8]) {
        const D = N * r, p = PTQ;
        const delta = p.C_T * D ** p.gammaD / N ** p.gammaN * Math.exp(-P / p.gammaPost) *
          Math.exp(noise * rng.normal());
        lines.push(`${N},${D},${P},${delta}`);
      }
    }
  }
  return lines.join("\n");
}
const ptqCols = {
  n: "N",
  d: "D",
  loss: "delta",
  fwd: "fwd",
  bwd: "bwd",
  bits: ["P"],
  fwdBits: "fwd_bits",
  bwdBits: "bwd_bits",
};

const rel = (a: number, b: number) => Math.abs(a / b - 1);

Deno.test("QuEST form: noise-free data recovers base constants and one efficiency per label to 1e-4", () => {
  const fit = fitRuns(questRuns(0), { form: "quest" });
  for (const [k, v] of Object.entries(QUEST)) {
    assert.ok(rel(fit.params[k], v) < 1e-4, `${k} ${fit.params[k]}`);
  }
  assert.deepEqual(Object.keys(fit.effN).sort(), ["fp4", "fp8"]); // the baseline is fixed at 1
  for (const l of ["fp4", "fp8"]) assert.ok(rel(fit.effN[l], EFF[l]) < 1e-4, `${l} ${fit.effN[l]}`);
  assert.ok(!("gamma" in fit.params));
  assert.ok(
    rel(
      predictLoss(fit, 1e9, 2e10, { fwd: "fp4" }),
      QUEST.E + QUEST.A / (0.6e9) ** 0.34 + QUEST.B / 2e10 ** 0.28,
    ) < 1e-4,
  );
  assert.ok(Number.isNaN(predictLoss(fit, 1e9, 2e10, { fwd: "int2" }))); // no fitted efficiency
});

Deno.test("QuEST form with 1% noise: the truth lies inside the 95% bootstrap intervals", () => {
  const plan = planFit(questRuns(0.01), { form: "quest" });
  const fit = executeFit(plan);
  fit.ci = bootstrapCI(plan, fit, { samples: 100, seed: 2 });
  for (const k of ["alpha", "beta", "E"]) {
    const [lo, hi] = fit.ci.params[k];
    assert.ok(
      lo <= QUEST[k as keyof typeof QUEST] && QUEST[k as keyof typeof QUEST] <= hi,
      `${k} [${lo}, ${hi}]`,
    );
  }
  for (const l of ["fp4", "fp8"]) {
    const [lo, hi] = fit.ci.effN[l];
    assert.ok(lo <= EFF[l] && EFF[l] <= hi, `effN ${l} [${lo}, ${hi}]`);
  }
});

Deno.test("Kumar PTQ form: a CSV of N, D, P bits and δ recovers C_T, γN, γD, γpost to 1e-4", () => {
  const runs = toRuns(parseTable(ptqCsv(0), "ptq.csv"), "kumar-ptq", ptqCols);
  const fit = fitRuns(runs, { form: "kumar-ptq", bitsColumns: ["P"] });
  for (const [k, v] of Object.entries(PTQ)) assert.ok(rel(fit.params[k], v) < 1e-4, `${k} ${fit.params[k]}`);
  assert.ok(fit.warnings.every((w) => !/bound 0/.test(w)), fit.warnings.join("\n"));
});

Deno.test("Kumar PTQ form with 1% noise: the truth lies inside the 95% bootstrap intervals", () => {
  const runs = toRuns(parseTable(ptqCsv(0.01), "ptq.csv"), "kumar-ptq", ptqCols);
  const plan = planFit(runs, { form: "kumar-ptq", bitsColumns: ["P"] });
  const fit = executeFit(plan);
  fit.ci = bootstrapCI(plan, fit, { samples: 100, seed: 3 });
  for (const [k, v] of Object.entries(PTQ)) {
    const [lo, hi] = fit.ci.params[k];
    assert.ok(lo <= v && v <= hi, `${k} [${lo}, ${hi}]`);
  }
});
