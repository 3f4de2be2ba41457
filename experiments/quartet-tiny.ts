/**
 * The demo: a small Quartet-style grid (schemes × 3 sizes × 3 token budgets) that finishes in minutes
 * on a 2-core machine with the software WebGPU adapter. `deno task sweep experiments/quartet-tiny.ts`.
 * @module
 */
import { defineExperiment } from "../lib/spec/schema.ts";

export default defineExperiment({
  name: "quartet-tiny",
  description:
    "Demo grid: schemes × 3 model sizes × 3 tokens-per-parameter budgets on the State of the Union text.",
  data: "sotu",
  models: [
    { name: "xs", layers: 1, dModel: 32 },
    { name: "s", layers: 2, dModel: 32 },
    { name: "m", layers: 1, dModel: 64 },
  ],
  schemes: ["bf16", "quest", "quartet"],
  tokens: { perParam: [2, 4, 8] },
  seeds: [0],
  // Quartet's rule: a base rate tuned on a small model, scaled inversely with N.
  optimizer: { lr: { rule: "inverse-params", base: 4e-3, baseParams: 1e5, max: 1e-2 } },
  batch: 8,
  context: 64,
  evalEvery: 50,
  evalTokens: 4096,
  checkpointEvery: 25,
  cost: { model: "bops", baselineBits: 8 },
});
