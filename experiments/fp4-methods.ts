/**
 * The schemes issue's comparison: every registered FP4 training recipe against the BF16 baseline on
 * one small model ladder, three token budgets, two seeds.
 * @module
 */
import { defineExperiment } from "../lib/spec/schema.ts";

export default defineExperiment({
  name: "fp4-methods",
  description: "FP4 training recipes vs BF16: 2 sizes × D/N 10/20/40 × 2 seeds.",
  data: "english",
  models: [
    { name: "s", layers: 2, dModel: 64 },
    { name: "m", layers: 3, dModel: 96 },
  ],
  schemes: ["bf16", "fp32"],
  tokens: { perParam: [10, 20, 40] },
  seeds: [0, 1],
  optimizer: { lr: { rule: "inverse-params", base: 4e-3, baseParams: 1e5, max: 1e-2 } },
  batch: 16,
  context: 64,
  evalEvery: 100,
  evalTokens: 16384,
  checkpointEvery: 100,
  cost: { model: "bops", baselineBits: 8 },
});
