/** Seeds as replicates: design cells, the two-level bootstrap resample, the fit summary and error bars. */
import assert from "node:assert/strict";
import * as vl from "vega-lite";
import { bootstrapCI, resampleWeights } from "../lib/fit/bootstrap.ts";
import { executeFit, fitRuns, planFit } from "../lib/fit/fit.ts";
import { makeRng } from "../lib/fit/random.ts";
import { replicateCells, replicateKey, replicateSummary, seedSpreads } from "../lib/fit/replicates.ts";
import { syntheticRuns } from "../lib/fit/synthetic.ts";
import { fitSummary } from "../lib/fit/report.ts";
import { lossVsTokensSpec } from "../lib/charts/specs.ts";
import { schemeName } from "../lib/fit/plan.ts";

const models = [
  { layers: 2, d_model: 64, heads: 2, ffn: 192 },
  { layers: 4, d_model: 128, heads: 4, ffn: 352 },
  { layers: 6, d_model: 256, heads: 8, ffn: 704 },
];

Deno.test("replicates: runs at equal scheme, N, D (and bits) form one cell", () => {
  const runs = syntheticRuns({ seeds: [0, 1, 2], models, noise: 0.01 });
  const cells = replicateCells(runs);
  assert.equal(cells.length * 3, runs.length);
  for (const c of cells) {
    assert.equal(c.length, 3);
    assert.equal(new Set(c.map((i) => replicateKey(runs[i]))).size, 1);
  }
  const s = replicateSummary(runs);
  assert.deepEqual([s.cells, s.replicated, s.maxPerCell], [cells.length, cells.length, 3]);
  assert.ok(s.seedNoise > 0.007 && s.seedNoise < 0.013, `seed noise ${s.seedNoise} vs σ 0.01`);
  assert.ok(Number.isNaN(replicateSummary(syntheticRuns({ models })).seedNoise));
});

Deno.test("replicates: one run per cell resamples exactly as the plain stratified bootstrap did", () => {
  const runs = syntheticRuns({ models });
  const plan = planFit(runs, { form: "quartet" });
  const a = makeRng(9), b = makeRng(9);
  for (let k = 0; k < 20; k++) {
    const w = resampleWeights(plan, a.next);
    // the former resampler: runs drawn with replacement within each scheme
    const old = new Float64Array(runs.length), strata = new Map<string, number[]>();
    runs.forEach((r, i) =>
      strata.set(schemeName(r.fwd, r.bwd), [...(strata.get(schemeName(r.fwd, r.bwd)) ?? []), i])
    );
    for (const ids of strata.values()) {
      for (let j = 0; j < ids.length; j++) old[ids[Math.floor(b.next() * ids.length)]]++;
    }
    assert.deepEqual(w, old);
  }
});

Deno.test("replicates: a resample draws cells, then seeds within them; counts per scheme and cell size kept", () => {
  const runs = syntheticRuns({ seeds: [0, 1, 2], models, noise: 0.01 });
  const plan = planFit(runs, { form: "quartet" });
  const cells = replicateCells(runs), rng = makeRng(4);
  let within = 0;
  for (let k = 0; k < 50; k++) {
    const w = resampleWeights(plan, rng.next);
    for (const c of cells) {
      const total = c.reduce((t, i) => t + w[i], 0);
      assert.equal(total % 3, 0, "a drawn cell contributes as many runs as it has");
      if (total === 3 && c.some((i) => w[i] !== 1)) within++;
    }
    const perScheme = new Map<string, number>();
    runs.forEach((r, i) =>
      perScheme.set(schemeName(r.fwd, r.bwd), (perScheme.get(schemeName(r.fwd, r.bwd)) ?? 0) + w[i])
    );
    for (const n of perScheme.values()) assert.equal(n, runs.length / 5);
  }
  assert.ok(within > 0, "seeds are resampled within a cell");
  const fit = executeFit(plan);
  const ci = bootstrapCI(plan, fit, { samples: 40, seed: 3 });
  for (const [k, v] of Object.entries({ quest: 0.65, rtn: 0.6 })) {
    assert.ok(ci.effN[k][0] <= v && v <= ci.effN[k][1], `${k} ${v} outside ${ci.effN[k]}`);
  }
});

Deno.test("replicates: the fit summary reports them and loss-vs-tokens draws the seed spread", () => {
  const fit = fitRuns(syntheticRuns({ seeds: [0, 1], models, noise: 0.01 }), { form: "quartet" });
  const rep = fitSummary(fit).replicates as { replicated: number; maxPerCell: number };
  assert.equal(rep.maxPerCell, 2);
  assert.equal(rep.replicated, 3 * 5 * 5);
  const spreads = seedSpreads(fit.predictions);
  assert.equal(spreads.length, 75);
  assert.ok(spreads.every((s) => s.n === 2 && s.min < s.max && s.min <= s.mean && s.mean <= s.max));
  const spec = lossVsTokensSpec(fit);
  const text = JSON.stringify(spec);
  assert.match(text, /"kind":"spread"/);
  assert.match(text, /"type":"rule"/);
  assert.match(text, /spread across seeds/);
  assert.ok(vl.compile(structuredClone(spec) as never).spec);
  // one seed per point: no bars, no replicates entry
  const single = fitRuns(syntheticRuns({ models, noise: 0.01 }), { form: "quartet" });
  assert.doesNotMatch(JSON.stringify(lossVsTokensSpec(single)), /"type":"rule"/);
  assert.equal(fitSummary(single).replicates, undefined);
});
