/**
 * The schemes issue's comparison: the FP4 training recipes of lib/schemes (Quartet, QuEST INT4, Wang
 * et al., Zhou et al., plain MXFP4/NVFP4 RTN) against BF16 and FP8 on a small ladder and three token
 * budgets. (LLM-FP4, SageAttention3, HQ-DiT and FP4DiT are post-training/inference methods: not here.)
 * @module
 */
import { defineExperiment } from "../lib/spec/schema.ts";

export default defineExperiment({
  name: "fp4-methods",
  description: "FP4 training recipes vs BF16/FP8: 3 sizes × D/N 10/20/40; add seeds for error bars.",
  data: "english",
  models: [
    { name: "xs", layers: 1, dModel: 32 },
    { name: "s", layers: 2, dModel: 32 },
    { name: "m", layers: 1, dModel: 64 },
  ],
  schemes: [
    "bf16",
    "fp8",
    "quartet",
    "quartet-sr",
    "quest-int4",
    "fp4-dge-occ",
    "fp4-direct",
    "fp4-mixed",
    "rtn-mxfp4",
    "rtn-nvfp4",
  ],
  tokens: { perParam: [10, 20, 40] },
  seeds: [0],
  optimizer: { lr: { rule: "inverse-params", base: 4e-3, baseParams: 1e5, max: 1e-2 } },
  batch: 16,
  context: 64,
  evalEvery: 100,
  evalTokens: 16384,
  checkpointEvery: 100,
  cost: { model: "bops", baselineBits: 8 },
});
