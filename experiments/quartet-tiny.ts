/**
 * The demo: a small Quartet-style grid that finishes in minutes on a 2-core machine with the software
 * WebGPU adapter (27 runs, 1.97M tokens; about 2.5 min on 2 idle cores, ~5.5 min when other jobs
 * share them). `deno task sweep experiments/quartet-tiny.ts`.
 *
 * Schemes: the BF16 baseline, the forward-only FP4 QuEST (gives effN) and Quartet (FP4 forward and
 * backward, gives effN and effD) — the three kinds of runs the two-stage Quartet fit needs.
 * @module
 */
import { defineExperiment } from "../lib/spec/schema.ts";

export default defineExperiment({
  name: "quartet-tiny",
  description:
    "Demo: BF16, QuEST (FP4 fwd) and Quartet (FP4 fwd+bwd) × 3 sizes (13k–53k) × D/N 1/2/4, byte-level SOTU.",
  data: "sotu",
  models: [
    { name: "xs", layers: 1, dModel: 32 },
    { name: "s", layers: 2, dModel: 32 },
    { name: "m", layers: 1, dModel: 64 },
  ],
  schemes: ["bf16", "quest", "quartet"],
  tokens: { perParam: [1, 2, 4] },
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
