/**
 * The real study: Quartet's grid (spec §2) scaled down to what a 2-core machine trains in a few hours.
 * `deno task sweep experiments/quartet-small.ts` (resumable; `--dry-run` prints the plan), then
 * `deno task fit results/quartet-small --form quartet`. Its committed results are under
 * `results/reference/quartet-small/`.
 *
 * Design:
 * - Four sizes doubling (13k–107k non-embedding parameters, by the shape rule), D/N ∈ {25, 50, 100}.
 * - WSD schedule (warmup 50 steps, 20 % 1-sqrt decay): runs that differ only in budget share one stable
 *   phase, so each (size, scheme, seed) group costs its longest run plus the shorter runs' decays.
 * - BF16 on every point gives the base constants (stage 1 of the two-stage Quartet fit); a second seed on
 *   the two smallest sizes, where the seed noise is largest against the effect of N.
 * - Forward-only FP4 recipes QuEST, RTN-AbsMax and SR-AbsMax (BF16 backward) give effN per forward recipe,
 *   to test the paper's ordering SR < RTN < QuEST (Table 2), on the three smaller sizes at D/N 25 and 50.
 * - Backward-only RTN MXFP4 (`rtn-bwd`, BF16 forward) gives effD on the two smallest sizes at all budgets
 *   (the backward precision acts through D); Quartet (QuEST forward + RTN backward) on the three smaller
 *   sizes at D/N 25 and 50.
 * - N-inverse learning rates, batch 16 × context 128 (2,048 tokens per step).
 * @module
 */
import { defineExperiment } from "../lib/spec/schema.ts";

const FORWARD_ONLY = ["quest", "rtn-absmax", "sr-absmax"];

export default defineExperiment({
  name: "quartet-small",
  description: "Quartet §2 grid scaled down: 4 sizes × D/N 25–100 × BF16, three FP4 forward recipes, " +
    "RTN MXFP4 backward and Quartet; WSD with shared prefixes; byte-level English text.",
  data: "english",
  models: [
    { name: "n15k", params: 1.5e4 },
    { name: "n30k", params: 3e4 },
    { name: "n60k", params: 6e4 },
    { name: "n120k", params: 1.2e5 },
  ],
  shapeRule: { aspect: 32, headDim: 32 },
  schemes: ["bf16", ...FORWARD_ONLY, "rtn-bwd", "quartet"],
  tokens: { perParam: [25, 50, 100] },
  seeds: [0, 1],
  optimizer: {
    lr: { rule: "inverse-params", base: 4e-3, baseParams: 1e5, max: 1e-2 },
    schedule: { kind: "wsd", warmup: 50, decay: 0.2, shape: "1-sqrt" },
  },
  batch: 16,
  context: 128,
  evalEvery: 250,
  evalTokens: 16384,
  checkpointEvery: 250,
  cost: { model: "bops", baselineBits: 8 },
  exclude: [
    // The second seed only for BF16 on the two smallest sizes.
    { seed: 1, scheme: [...FORWARD_ONLY, "rtn-bwd", "quartet"] },
    { seed: 1, model: ["n60k", "n120k"] },
    // FP4 recipes skip the largest size; forward-only and Quartet stop at D/N = 50.
    { scheme: [...FORWARD_ONLY, "rtn-bwd", "quartet"], model: "n120k" },
    { scheme: [...FORWARD_ONLY, "quartet"], tokensPerParam: 100 },
    { scheme: "rtn-bwd", model: "n60k" },
  ],
});
