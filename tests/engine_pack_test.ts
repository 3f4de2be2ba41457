/**
 * Packed runs (lib/engine/pack.ts): K runs trained in one program give each run the curve, final losses and
 * checkpoint of the same run trained alone, bit for bit; schemes with prepare passes are refused.
 */
import assert from "node:assert/strict";
import { resolveModelConfig } from "../lib/models/llama/config.ts";
import type { TrainConfig, TrainResult } from "../lib/engine/api.ts";
import { train } from "../lib/engine/train.ts";
import { trainPacked } from "../lib/engine/pack.ts";
import { packKey, packProblemOf } from "../lib/engine/packable.ts";

const base = (over: Partial<TrainConfig>): TrainConfig => ({
  model: resolveModelConfig({ layers: 1, dModel: 32, heads: 1, context: 32 }),
  batch: 4,
  steps: 10,
  lr: 3e-3,
  seed: 0,
  data: "sotu",
  scheme: { fwd: "bf16", bwd: "bf16" },
  evalEvery: 5,
  evalTokens: 512,
  ...over,
});

const same = (a: TrainResult, b: TrainResult) => {
  assert.deepEqual(a.curve, b.curve);
  assert.deepEqual(a.finalValLoss, b.finalValLoss);
  assert.deepEqual(a.finalTrainLoss, b.finalTrainLoss);
};

// bf16; fp32; Quartet (QuEST forward with trust masks and kept operands, RTN MXFP4 backward with per-step
// Hadamard signs). FP4LAB_PACK_ALL=1 adds stochastic rounding both ways (per-run seeds per group; +90 s of
// shader compilation on 2 cores, so not in the default suite).
const schemes = [
  { fwd: "bf16", bwd: "bf16" },
  { fwd: "fp32", bwd: "fp32" },
  { fwd: "quest", bwd: "rtn-bwd" },
  ...(Deno.env.get("FP4LAB_PACK_ALL") ? [{ fwd: "sr-absmax", bwd: "sr-bwd" }] : []),
];
for (const scheme of schemes) {
  Deno.test(`engine pack: 3 runs (seeds, peak lrs) of ${scheme.fwd}+${scheme.bwd} = each alone, bit for bit`, async () => {
    const cfgs = [
      base({ scheme, seed: 0 }),
      base({ scheme, seed: 1, lr: 1e-2 }),
      base({ scheme, seed: 7, lr: 1e-3 }),
    ];
    const packed = await trainPacked(cfgs.map((config) => ({ config, hooks: {} })));
    for (let r = 0; r < cfgs.length; r++) {
      const p = packed[r];
      assert(p.status === "fulfilled");
      same(p.value, await train(cfgs[r]));
    }
  });
}

Deno.test("engine pack: keys and refusals", () => {
  assert.deepEqual(packKey(base({ seed: 3, lr: 1 })), packKey(base({})));
  assert(packKey(base({ steps: 11 })) !== packKey(base({})));
  assert.deepEqual(packProblemOf(base({})), undefined);
  assert.deepEqual(packProblemOf(base({ scheme: { fwd: "fp32", bwd: "fp32" } })), undefined);
  assert.deepEqual(packProblemOf(base({ scheme: { fwd: "quest", bwd: "rtn-bwd" } })), undefined);
  assert(packProblemOf(base({ attention: "sagebwd" })));
  assert(packProblemOf(base({ scheme: { fwd: "bf16~quest@0.5", bwd: "bf16" } })));
  assert(packProblemOf(base({ initFrom: "somewhere" })));
});
