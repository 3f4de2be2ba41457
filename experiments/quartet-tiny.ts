/**
 * The demo: a small Quartet-style grid for the two-stage Quartet fit, sized to finish (sweep + fit +
 * charts) within 10 minutes on 2 CPU cores with the software WebGPU adapter: 30 runs, 7.26M tokens planned,
 * 4.89M trained with WSD prefix sharing; the measured run took 522 CPU-seconds in all (a quiet probe kept
 * 0.97 of a core busy, so about 9 minutes on 2 dedicated cores). `deno task demo` runs it; `deno task sweep
 * experiments/quartet-tiny.ts` runs the sweep alone.
 *
 * Schemes: the BF16 baseline (base constants), the forward-only FP4 QuEST (effN) and the backward-only FP4
 * RTN-MXFP4 backward `bf16+rtn-bwd` (effD): Quartet's two halves measured separately, as the paper's
 * notebooks do for their FP4:FP4 curves (quartet.md §3.1). Two one-parameter stage-2 fits instead of the
 * joint (effN, effD) fit of fully quantized runs, whose two efficiencies traded off on so few points (the
 * previous design's Quartet effN: 1e-3–3e41).
 *
 * Design (pilots and the committed run, on llvmpipe; results/reference/quartet-tiny):
 * - Batch 16 × context 32 (512 tokens per step). At 1 layer, d 32, 215k tokens, WSD, seeds 0–2: batch 4
 *   gave final val 1.853 / 2.002 / 1.884 (SD of ln L 0.041), batch 16 gave 2.111 / 2.119 / 2.156 (0.011),
 *   at 1.5× fewer CPU-seconds per token (21k against 14k tokens per CPU-second). Seed noise, not the number
 *   of points, is what limits this fit.
 * - WSD (warmup 10 steps, 20 % 1-sqrt decay): the shorter budgets of a size branch off its longest run.
 * - Depth 1, 2, 4 at width 32 (N 13.4k–53.5k). Width 64 at the same learning rate trained worse than width
 *   32 (1 layer, 215k tokens: 2.18 / 2.12 against 1.86 / 2.00), so a width ladder needs its own learning rates.
 * - Constant peak learning rate 1e-2 for every size and scheme.
 * - FP4 runs at the two largest budgets (where N matters most), one seed; the backward-only scheme on the two
 *   smaller sizes (its D term dominates, so effD is the cheapest parameter to pin down).
 * - The demo fits γ = 1 (`demoFit` below).
 *
 * What this grid does not determine (measured, see the README): α (95 % interval 2e-6–5) and QuEST's effN
 * (0.39–2e77: at 1 layer QuEST beats BF16 by 0.11–0.14 nats, more than the law's N term allows); β
 * (0.099–0.51, 5.1×) and effD (0.82–2.09, 2.6×) are close to the targets of 3× and 2×. The pooled seed
 * noise is 1.5 % of the loss while 1 → 2 layers moves it by less than that. With γ free, the same runs give
 * β 7e-4–18 and effD 0.82–181. Simulated with tools/demo_power.ts (truth: this fit with effN 0.8, the
 * measured seed noise): every run replicated 8× (39M tokens trained, about 70 CPU-minutes) brings β to ~2.4×
 * and effD to ~1.2×, but even 16× leaves α ~1000× and effN ~6×: α needs a wider range of N, not replicates.
 * @module
 */
import { defineExperiment } from "../lib/spec/schema.ts";

export default defineExperiment({
  name: "quartet-tiny",
  description:
    "Demo: BF16 (3 sizes × 4 budgets, seeds 0–1), QuEST (FP4 fwd) and RTN-MXFP4 backward (FP4 bwd) at the " +
    "two largest budgets; 13k–54k params, D 54k–430k tokens, WSD, byte-level SOTU.",
  data: "sotu",
  models: [
    { name: "s", layers: 1, dModel: 32 },
    { name: "m", layers: 2, dModel: 32 },
    { name: "l", layers: 4, dModel: 32 },
  ],
  schemes: ["bf16", "quest", { fwd: "bf16", bwd: "rtn-bwd" }],
  // 105, 210, 420, 840 steps of 512 tokens; WSD: the shorter budgets of a size branch off the longest run.
  tokens: { absolute: [53760, 107520, 215040, 430080] },
  seeds: [0, 1],
  optimizer: {
    lr: { rule: "constant", value: 1e-2 },
    schedule: { kind: "wsd", warmup: 10, decay: 0.2, shape: "1-sqrt" },
  },
  batch: 16,
  context: 32,
  evalEvery: 0,
  evalTokens: 16384,
  checkpointEvery: 200,
  cost: { model: "bops", baselineBits: 8 },
  exclude: [
    // FP4 runs at the two largest budgets only (where N matters most), one seed.
    { scheme: ["quest", "bf16+rtn-bwd"], tokens: [53760, 107520] },
    { scheme: ["quest", "bf16+rtn-bwd"], seed: 1 },
    // The backward-only scheme (effD: the D term dominates, so it is cheap to pin down) on the two smaller sizes.
    { scheme: "bf16+rtn-bwd", model: "l" },
    // The second seed of the baseline on the two smaller sizes (cheap; replicates give the seed noise).
    { scheme: "bf16", model: "l", seed: 1 },
  ],
});

/**
 * How the demo fits this grid (cli/demo.ts): the Quartet law with γ held at 1 — the γ = 1 ("Hoffmann")
 * variant the Quartet authors fitted on the same BF16 data (quartet.md §1.2). With γ free, γ, α and E
 * trade off on a grid this small and every interval is wider than 10× (measured and simulated).
 */
export const demoFit = { form: "quartet", baseline: "bf16", fixed: { gamma: 1 }, bootstrap: 100 } as const;
