/**
 * The full tiny-scale reproduction of Quartet's grid (spec §2): four sizes doubling like 30/50/100/200M,
 * D/N ∈ {25, 50, 100, 200} (the largest size only up to 100, as in the paper), BF16 baseline and
 * the FP4 schemes, N-inverse learning rates. Hours on a CPU adapter, minutes on a GPU.
 * @module
 */
import { defineExperiment } from "../lib/spec/schema.ts";

export default defineExperiment({
  name: "quartet-small",
  description: "Quartet §2 grid scaled down: 4 sizes × D/N 25–200 × schemes, byte-level English text.",
  data: "english",
  models: [
    { name: "n15k", params: 1.5e4 },
    { name: "n30k", params: 3e4 },
    { name: "n60k", params: 6e4 },
    { name: "n120k", params: 1.2e5 },
  ],
  shapeRule: { aspect: 32, headDim: 32 },
  // BF16 baseline (the paper's FP8 stand-in); forward-only QuEST (effN); backward-only MXFP4 RTN with
  // BF16 forward (effD); Quartet = both (paper v4: RTN backward).
  schemes: ["bf16", "quest", "rtn-bwd", "quartet"],
  tokens: { perParam: [25, 50, 100, 200] },
  seeds: [0],
  optimizer: { lr: { rule: "inverse-params", base: 4e-3, baseParams: 1e5, max: 1e-2 } },
  batch: 16,
  context: 128,
  evalEvery: 200,
  evalTokens: 32768,
  checkpointEvery: 200,
  cost: { model: "bops", baselineBits: 8 },
  // As in the paper, the largest model stops at D/N = 100 (and stays within one epoch of the data).
  exclude: [{ model: "n120k", tokensPerParam: 200 }],
});
