import assert from "node:assert/strict";
import { chinchillaOptimum } from "../lib/fit/forms/chinchilla.ts";
import { fitIsoflop, parabolaMinimum } from "../lib/fit/isoflop.ts";
import { makeRng } from "../lib/fit/random.ts";
import type { Run } from "../lib/fit/types.ts";

const LAW = { E: 1.69, A: 406.4, alpha: 0.34, B: 410.7, beta: 0.28 };

/** Per budget, 9 sizes spread ×e^±1.2 around the true optimum, D = C/(6N), Chinchilla losses (noise σ). */
function isoflopRuns(noise = 0): Run[] {
  const rng = makeRng(4), runs: Run[] = [];
  for (const C of [1e18, 1e19, 1e20, 1e21, 1e22]) {
    const nOpt = chinchillaOptimum(LAW, C).N;
    for (let k = -4; k <= 4; k++) {
      const N = nOpt * Math.exp(0.3 * k), D = C / (6 * N);
      const L = (LAW.E + LAW.A / N ** LAW.alpha + LAW.B / D ** LAW.beta) * Math.exp(noise * rng.normal());
      runs.push({ id: `${C}-${k}`, N, D, L, fwd: "", bwd: "", bits: [], C });
    }
  }
  return runs;
}

Deno.test("parabola minimum: exact for a parabola, with a standard error once there are more than 3 points", () => {
  const x = [0, 1, 2, 3, 4], y = x.map((v) => 2 + 0.5 * (v - 1.7) ** 2);
  const r = parabolaMinimum(x, y);
  assert.ok(typeof r !== "string");
  assert.ok(Math.abs(r.xStar - 1.7) < 1e-12 && Math.abs(r.yStar - 2) < 1e-12);
  assert.ok(r.se !== undefined && r.se < 1e-6);
  assert.match(String(parabolaMinimum([0, 1, 2], [1, 2, 3])), /no minimum/);
  assert.match(String(parabolaMinimum([0, 0, 1], [1, 2, 3])), /2 distinct sizes/);
});

Deno.test("isoflop: Approach 2 recovers a = β/(α+β) and b = α/(α+β) of a Chinchilla law", () => {
  const fit = fitIsoflop(isoflopRuns());
  const a = LAW.beta / (LAW.alpha + LAW.beta), b = LAW.alpha / (LAW.alpha + LAW.beta);
  assert.ok(Math.abs(fit.params.a - a) < 5e-3, `a ${fit.params.a} vs ${a}`);
  assert.ok(Math.abs(fit.params.b - b) < 5e-3, `b ${fit.params.b} vs ${b}`);
  assert.equal(fit.optima.length, 5);
  for (const o of fit.optima) {
    const truth = chinchillaOptimum(LAW, o.C);
    assert.ok(Math.abs(Math.log(o.nStar / truth.N)) < 0.05, `N* at C=${o.C}: ${o.nStar} vs ${truth.N}`);
    assert.ok(Math.abs(o.dStar * 6 * o.nStar / o.C - 1) < 1e-12);
  }
  assert.deepEqual(fit.warnings, []);
});

Deno.test("isoflop: bootstrap intervals with 1% noise contain the true exponents", () => {
  const fit = fitIsoflop(isoflopRuns(0.01), { bootstrap: 200, seed: 3 });
  const a = LAW.beta / (LAW.alpha + LAW.beta), b = 1 - a;
  const [aLo, aHi] = fit.ci!.params.a, [bLo, bHi] = fit.ci!.params.b;
  assert.ok(aLo <= a && a <= aHi, `a [${aLo}, ${aHi}]`);
  assert.ok(bLo <= b && b <= bHi, `b [${bLo}, ${bHi}]`);
  assert.ok(fit.optima.every((o) => o.lnNStarSE !== undefined && o.lnNStarSE > 0));
});
