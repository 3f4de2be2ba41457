/**
 * The demo: a small Quartet-style grid that finishes in minutes on a 2-core machine with the software
 * WebGPU adapter (32 runs, 2.31M tokens; 7 min for sweep + fit + charts with the 2 cores shared with
 * another job, load average ~3). `deno task sweep experiments/quartet-tiny.ts`.
 *
 * Schemes: the BF16 baseline, the forward-only FP4 QuEST (gives effN) and Quartet (FP4 forward and
 * backward, gives effN and effD) — the three kinds of runs the two-stage Quartet fit needs.
 *
 * Design (measured on llvmpipe):
 * - The baseline gets 4 sizes × 3–4 budgets = 14 points for the law's 6 constants; the FP4 schemes run on
 *   the 3 smaller sizes × 3 budgets (9 points each for 1–2 efficiency parameters).
 * - One architecture family (width 32, 1–4 layers: N = 13.4k–53.5k, 4×) so size is the only thing varying.
 * - The same absolute token budgets for every size (D = 26.9k–215k, 8×; D/N 0.5–16), so the effect of N at
 *   fixed D is measured directly. With budgets proportional to N (D/N 1/2/4) every point fell on one curve
 *   of D alone and the fit put α at its bound 0.
 * - 128 tokens per step (batch 4 × context 32): on the software adapter throughput per token is the same as
 *   at 512 tokens per step, and 4× more optimizer steps (210–1680) take the runs out of the regime where
 *   loss only counts steps.
 * - Learning rate: constant 5e-3. Measured on L1 and L4 (bf16, D/N = 1–2): 5e-3 ≈ 7.5e-3 ≈ 1e-2 within
 *   run-to-run noise (±0.03) on L4, 5e-3 better than 1e-2 by 0.04 on L1; the inverse-N rule would give
 *   a 4× spread these sizes do not want.
 * - Even so, all runs are far from the irreducible loss and single-seed noise (±0.03 nats) is as large as the
 *   effect of N, so E, γ and the efficiencies come with wide bootstrap intervals: the fit's warnings say so.
 * @module
 */
import { defineExperiment } from "../lib/spec/schema.ts";

export default defineExperiment({
  name: "quartet-tiny",
  description:
    "Demo: BF16 (4 sizes), QuEST (FP4 fwd) and Quartet (FP4 fwd+bwd) (3 sizes) × D 27k–215k tokens, " +
    "13k–54k params, byte-level SOTU.",
  data: "sotu",
  models: [
    { name: "xs", layers: 1, dModel: 32 },
    { name: "s", layers: 2, dModel: 32 },
    { name: "m", layers: 3, dModel: 32 },
    { name: "l", layers: 4, dModel: 32 },
  ],
  schemes: ["bf16", "quest", "quartet"],
  // Absolute budgets (210, 420, 840, 1680 steps of 128 tokens): every size sees the same D, so the loss's
  // dependence on N at fixed D is measured directly; D/N spans 0.5–16.
  tokens: { absolute: [26880, 53760, 107520, 215040] },
  seeds: [0],
  optimizer: { lr: { rule: "constant", value: 5e-3 } },
  batch: 4,
  context: 32,
  evalEvery: 0,
  evalTokens: 16384,
  checkpointEvery: 200,
  cost: { model: "bops", baselineBits: 8 },
  // The FP4 schemes skip the largest size and budget; the largest budget runs on the two smallest sizes only.
  exclude: [
    { scheme: ["quest", "quartet"], model: "l" },
    { scheme: ["quest", "quartet"], tokens: 215040 },
    { model: ["m", "l"], tokens: 215040 },
  ],
});
