/**
 * The DiT demo: class-conditional diffusion transformers on MNIST, BF16 and Quartet, sizes × budgets, fitted with
 * the Chinchilla form. `deno task sweep experiments/dit-tiny.ts`, then
 * `deno task fit results/dit-tiny --form chinchilla`.
 *
 * - Sizes: width 32 with 1 and 2 blocks, width 64 with 2 blocks (patch 4: 49 patches per image, 2 heads).
 * - D counts patches: training images × 49. Budgets 60, 120 and 240 steps of 32 images (94k–376k patches).
 * - Batch 32: the adaLN and timestep linears have one row per image, and Quartet's backward blocks of 32 run
 *   along those rows.
 * - Validation: the first 128 of the fixed validation tuples (evalTokens = 128 × 49).
 * - Constant learning rate 1e-3.
 * - Measured (Intel Xeon, 2 cores shared by other jobs, load 7–14): 18 runs in 36m38s wall, 550 CPU-seconds;
 *   not yet timed on a quiet machine. The Chinchilla fit of these 9 bf16 points is ill-determined (the fitter's
 *   warnings say so): the 60-step budget is still in the steep early phase of every run.
 * @module
 */
import { defineExperiment } from "../lib/spec/schema.ts";

export default defineExperiment({
  name: "dit-tiny",
  description: "Demo: class-conditional DiT on MNIST, BF16 vs Quartet, 3 sizes × 94k–376k patches.",
  data: "mnist",
  models: [
    { name: "d1w32", family: "dit", depth: 1, width: 32, heads: 2, patch: 4 },
    { name: "d2w32", family: "dit", depth: 2, width: 32, heads: 2, patch: 4 },
    { name: "d2w64", family: "dit", depth: 2, width: 64, heads: 2, patch: 4 },
  ],
  schemes: ["bf16", "quartet"],
  tokens: { absolute: [94080, 188160, 376320] },
  seeds: [0],
  optimizer: { lr: { rule: "constant", value: 1e-3 } },
  batch: 32,
  evalEvery: 0,
  evalTokens: 6272,
  checkpointEvery: 0,
  cost: { model: "bops", baselineBits: 8 },
});
