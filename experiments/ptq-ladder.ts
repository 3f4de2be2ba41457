/**
 * Evidence for post-training quantization (issue 11): does the loss added by FP4 PTQ grow with the data a model
 * was trained on (Kumar et al.), and which recipe bends it? Three sizes (1–3 layers at width 32, N 13k–40k)
 * × three token budgets (27k–108k, D/N 0.7–8) trained in BF16 on byte-level SOTU, then every PTQ recipe at
 * W4A4 and W4A8 on every final checkpoint (216 jobs; lib/ptq, FPQ's format search on the GPU, the rest on the CPU, 16 calibration sequences, loss
 * before/after on 4,096 held-out tokens, 200 AdaRound iterations).
 *
 * `deno task sweep experiments/ptq-ladder.ts` (resumable; `--only model=xs,tokens=26880` for a slice);
 * then `deno task fit results/ptq-ladder/ptq.csv --form kumar-ptq --n-col params --d-col tokens
 * --loss-col delta --bits-col a_bits --where recipe=fpq` per recipe.
 * Measured (results/reference/ptq-ladder/, shared 2-core Xeon, load average 6–13): training 150 s, PTQ jobs
 * 2,160 s (fpq-baseline + fpq 61 % of it; the others 2–15 s per job). The 30-minute target on 2 idle cores was
 * not measured.
 * @module
 */
import { defineExperiment } from "../lib/spec/schema.ts";
import { RECIPES } from "../lib/ptq/recipes.ts";

export default defineExperiment({
  name: "ptq-ladder",
  description:
    "PTQ recipes (min-max, LLM-FP4, HQ-DiT ladder, FP4DiT) at W4A4/W4A8 on BF16 Llamas: 3 N × 3 D.",
  data: "sotu",
  models: [
    { name: "xs", layers: 1, dModel: 32 },
    { name: "s", layers: 2, dModel: 32 },
    { name: "m", layers: 3, dModel: 32 },
  ],
  schemes: ["bf16"],
  tokens: { absolute: [26880, 53760, 107520] },
  seeds: [0],
  optimizer: { lr: { rule: "constant", value: 5e-3 } },
  batch: 4,
  context: 32,
  evalEvery: 0,
  evalTokens: 16384,
  checkpointEvery: 200,
  ptq: RECIPES.flatMap((r) => [`${r.name}:w4a4`, `${r.name}:w4a8`]),
  ptqOptions: { calib: 16, evalTokens: 4096, iters: 200 },
});
