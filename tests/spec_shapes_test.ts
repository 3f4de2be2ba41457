import assert from "node:assert/strict";
import { defaultFfn, nonEmbeddingParams, shapeForTarget } from "../lib/spec/shapes.ts";
import { learningRate } from "../lib/spec/lr.ts";

Deno.test("non-embedding parameters follow Quartet's count", () => {
  // Quartet §2.1 30M model (h = 1792): 30,482,560.
  assert.equal(nonEmbeddingParams({ layers: 6, dModel: 640, ffn: 1792 }), 30_482_560);
  assert.equal(defaultFfn(96), 256);
  assert.equal(defaultFfn(32), 96);
});

Deno.test("target sizes map to the closest shape within the aspect band", () => {
  const rule = { aspect: 32, headDim: 32 };
  for (const target of [2e4, 1e5, 5e5, 2e6]) {
    const s = shapeForTarget(target, rule);
    const n = nonEmbeddingParams(s);
    assert.ok(Math.abs(Math.log(n / target)) < Math.log(1.6), `${target} → ${n}`);
    assert.ok(s.dModel / s.layers >= 16 && s.dModel / s.layers <= 64);
    assert.equal(s.dModel % 32, 0);
  }
});

Deno.test("inverse-params learning rate halves when N doubles", () => {
  const rule = { rule: "inverse-params" as const, base: 1.2e-3, baseParams: 3e7, power: 1 };
  assert.equal(learningRate(rule, 3e7), 1.2e-3);
  assert.equal(learningRate(rule, 6e7), 6e-4);
  assert.equal(learningRate({ ...rule, max: 1e-3 }, 1e6), 1e-3);
});
