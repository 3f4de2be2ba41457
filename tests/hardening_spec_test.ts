/**
 * Issue #15 regressions, spec side: each defect the issue lists, refused with one line naming the
 * field (or, for the dry run's own defects, handled without a crash, a hang or a generated corpus).
 */
import assert from "node:assert/strict";
import { parseExperiment } from "../lib/spec/validate.ts";
import { expandExperiment, gridSize } from "../lib/sweep/expand.ts";
import { InputError } from "../lib/spec/errors.ts";
import { loadSource, sourceTrainTokens } from "../lib/data/sources.ts";
import { dryRunReport, gridReport } from "../lib/sweep/dryrun.ts";
import { textTable } from "../lib/sweep/format.ts";
import { shapeForTarget } from "../lib/spec/shapes.ts";
import { learningRate } from "../lib/spec/lr.ts";

const good = {
  name: "regress",
  data: "sotu",
  models: [{ layers: 1, dModel: 32 }, { params: 20000 }],
  schemes: ["fp32", "quartet"],
  tokens: { perParam: [1, 2] },
  optimizer: { lr: { rule: "inverse-params", base: 3e-3, baseParams: 1e4 } },
  batch: 2,
  context: 32,
  evalTokens: 64,
};

/** The single-line InputError of a spec (parse + expand), asserting it names `path`. */
async function refused(patch: Record<string, unknown>, path: string, pattern?: RegExp): Promise<string> {
  try {
    await expandExperiment(parseExperiment({ ...good, ...patch }));
  } catch (e) {
    assert.ok(e instanceof InputError, `not an InputError: ${(e as Error)?.stack}`);
    assert.equal(e.message.split("\n").length, 1, e.message);
    assert.ok(e.message.endsWith(`→ at ${path}`), `expected "→ at ${path}" in: ${e.message}`);
    if (pattern) assert.match(e.message, pattern);
    return e.message;
  }
  assert.fail(`accepted: ${JSON.stringify(patch)}`);
}

const inline = (element: string) => ({
  name: "odd",
  fwd: { x: { element, scale: { granularity: "none", type: "f32", rule: "absmax" }, rounding: "nearest" } },
  bwd: "fp32",
});

Deno.test("an element named constructor/toString/valueOf/hasOwnProperty is unknown (never a 0-loss run)", async () => {
  for (const name of ["constructor", "toString", "valueOf", "hasOwnProperty"]) {
    await refused({ schemes: [inline(name)] }, "schemes[0].fwd.x", /unknown element format/);
  }
});

Deno.test("scheme name constructor: unknown scheme with a known-names hint, no crash in closestNames", async () => {
  await refused(
    { schemes: ["constructor"] },
    "schemes[0]",
    /unknown scheme "constructor"; known: .*\(\d+ in all\)/,
  );
});

Deno.test("shapeRule.aspect 0.01 and 1e5 are refused with the range; a band with no shape near N says why", async () => {
  await refused({ shapeRule: { aspect: 0.01 } }, "shapeRule.aspect", />=0\.25/);
  await refused({ shapeRule: { aspect: 1e5 } }, "shapeRule.aspect", /<=16384/);
  await refused({ shapeRule: { aspect: 0.3 } }, "models[1].params", /no shape .* within 2× of params 20000/);
  await refused(
    { models: [{ params: 1000 }] },
    "models[0].params",
    /closest, 1 layers × d 32, has N = 13408/,
  );
  assert.throws(
    () => shapeForTarget(1e5, { aspect: 0.01, headDim: 32 }),
    /use an aspect between 0\.25 and 16384/,
  );
});

Deno.test("seeds are u32: 2^32 and -1 refused (no aliasing), 2^32-1 accepted", async () => {
  await refused({ seeds: [0, 4294967296] }, "seeds[1]");
  await refused({ seeds: [-1] }, "seeds[0]");
  const { runs } = await expandExperiment(parseExperiment({ ...good, seeds: [4294967295] }));
  assert.ok(runs.every((r) => r.config.seed === 4294967295));
});

Deno.test("non-finite and extreme numbers: perParam 1e308, lr 1e308, min > max, budgets beyond the step limit", async () => {
  await refused({ tokens: { perParam: [1e308] } }, "tokens.perParam[0]");
  await refused({ tokens: { perParam: [Infinity] } }, "tokens.perParam[0]");
  await refused({ tokens: { perParam: [1e6] } }, "tokens.perParam[0]", /needs .* steps .* at most 100M/);
  await refused({ optimizer: { lr: { rule: "constant", value: 1e308 } } }, "optimizer.lr.value");
  await refused(
    { optimizer: { lr: { rule: "inverse-params", base: 1e308, baseParams: 1e4 } } },
    "optimizer.lr.base",
  );
  await refused(
    { optimizer: { lr: { rule: "inverse-params", base: 1e-3, baseParams: 1e4, min: 1e-2, max: 1e-3 } } },
    "optimizer.lr.min",
    /min must not exceed max/,
  );
  await refused(
    { optimizer: { lr: { rule: "inverse-params", base: 9, baseParams: 1e12, power: 2 } } },
    "optimizer.lr",
    /gives lr .* for models\[0\].*set min\/max/,
  );
  await refused({ batch: 1e9 }, "batch");
  await refused({ context: 2 ** 20 }, "context");
  assert.equal(
    learningRate({ rule: "inverse-params", base: 1e-3, baseParams: 1e4, power: 1, max: 5e-4 }, 1e3),
    5e-4,
  );
});

Deno.test("data sources are checked whole: options on a corpus, markov options' names, values and ranges", async () => {
  await refused({ data: "sotu:extra" }, "data", /"sotu" takes no options/);
  await refused({ data: "sotuu" }, "data", /did you mean "sotu"/);
  await refused({ data: "markov:tokens=-1" }, "data", /tokens must be an integer in/);
  await refused({ data: "markov:tokens=3e9" }, "data", /tokens must be an integer in/);
  await refused({ data: "markov:foo=1" }, "data", /unknown option "foo"/);
  await refused({ data: "markov:constructor=1" }, "data", /unknown option "constructor"/);
  await refused({ data: "markov:k=2,k=3" }, "data", /given twice/);
  await refused({ data: "markov:conc=0" }, "data", /conc must be a number in/);
  await refused({ data: "markov:seed=1.5" }, "data", /seed must be an integer/);
  await refused({ data: "markov:v=26,k=4" }, "data", /v\^k must be at most 65536/);
  assert.throws(() => loadSource("sotu:extra"), /takes no options/);
});

Deno.test("the dry run's data size of a markov source is computed, not generated (2^27 tokens in milliseconds)", () => {
  const small = "markov:k=1,v=4,seed=2,tokens=65536";
  assert.equal(sourceTrainTokens(small), loadSource(small).train.length);
  const t = performance.now();
  const big = sourceTrainTokens("markov:tokens=134217728");
  assert.ok(performance.now() - t < 200, `${performance.now() - t} ms`);
  assert.ok(big > 0.9 * 134217728 && big < 134217728);
});

Deno.test("filters that match nothing and an empty filter are refused; so are filters leaving no run", async () => {
  await refused({ include: [{ scheme: "quartett" }] }, "include[0].scheme", /did you mean "quartet"/);
  await refused({ include: [{ model: "L9-d32" }] }, "include[0].model");
  await refused({ include: [{ seed: 3 }] }, "include[0].seed", /does not have/);
  await refused({ exclude: [{}] }, "exclude[0]", /empty filter matches every run/);
  await refused({ include: [{ tokens: 640 }] }, "include[0].tokens");
  await refused({ exclude: [{ scheme: ["fp32", "quartet"] }] }, "exclude", /leave none of the 8 runs/);
  await refused(
    { tokens: { perParam: [1], absolute: [640] }, include: [{ tokensPerParam: 1, tokens: 640 }] },
    "include[0]",
    /matches no run/,
  );
});

Deno.test("speedups for unknown schemes and two models with one name and different shapes are refused", async () => {
  await refused(
    { cost: { model: "measured", speedups: { quartett: { fwd: 2, bwd: 2 } } } },
    "cost.speedups.quartett",
    /did you mean "quartet"/,
  );
  await refused(
    { cost: { model: "measured", speedups: JSON.parse('{"__proto__": {"fwd": 2, "bwd": 2}}') } },
    "cost.speedups",
    /__proto__/,
  );
  await refused(
    { models: [{ name: "a", layers: 1, dModel: 32 }, { name: "a", layers: 2, dModel: 64 }] },
    "models[1].name",
    /already used by a different shape/,
  );
  // The same name for the same shape is harmless: the repeated grid points are listed once.
  const e = await expandExperiment(
    parseExperiment({
      ...good,
      models: [{ name: "a", layers: 1, dModel: 32 }, { name: "a", layers: 1, dModel: 32 }],
    }),
  );
  assert.equal(e.runs.length, 4);
  assert.equal(e.duplicates.length, 4);
});

Deno.test("names are file-name safe: a 5,000-character name is refused, not a 'File name too long' crash", async () => {
  await refused({ name: "a".repeat(5000) }, "name", /<=64 characters/);
  await refused({ models: [{ name: "m".repeat(65), layers: 1, dModel: 32 }] }, "models[0].name");
  await refused({ schemes: [{ name: "S".repeat(65), fwd: "bf16", bwd: "fp32" }] }, "schemes[0].name");
  await refused({ data: "x".repeat(5000) }, "data");
  const msg = await refused({ schemes: ["q".repeat(3000)] }, "schemes[0]");
  assert.ok(msg.length < 1000, `message of ${msg.length} characters`);
});

Deno.test("huge grids: 20,000 seeds dry-run without overflow; 10^6 runs refused with a summary", async () => {
  const seeds = Array.from({ length: 20_000 }, (_, i) => i);
  const spec = parseExperiment({
    ...good,
    models: [{ layers: 1, dModel: 32 }],
    schemes: ["fp32"],
    tokens: { absolute: [640] },
    seeds,
  });
  const expansion = await expandExperiment(spec);
  assert.equal(expansion.runs.length, 20_000);
  const report = dryRunReport({
    expansion,
    owned: expansion.runs,
    status: new Map(),
    throughput: new Map(),
    data: spec.data,
    dataTokens: 100,
  });
  assert.match(report, /… and 19000 more runs/);
  assert.match(report, /total: 20000 runs/);
  assert.match(report, /… and 19980 more runs that would repeat the training data/);
  assert.ok(report.split("\n").length < 1100);
  const rows = Array.from({ length: 300_000 }, (_, i) => [String(i), "x"]);
  assert.equal(textTable(["#", "v"], rows).split("\n").length, 300_002);

  const huge = parseExperiment({
    ...good,
    seeds: Array.from({ length: 1000 }, (_, i) => i),
    tokens: { absolute: Array.from({ length: 250 }, (_, i) => 640 * (i + 1)) },
  });
  assert.equal(gridSize(huge).runs, 1_000_000);
  await assert.rejects(expandExperiment(huge), /expands to 1,000,000 runs .* at most 100,000 per spec/);
  const summary = gridReport(huge);
  assert.match(summary, /^regress: 1,000,000 runs before include\/exclude/);
  assert.match(summary, /seeds \(1000\): 0, 1, 2, 3, 4, 5, 6, 7, … \(1000\)/);
});
