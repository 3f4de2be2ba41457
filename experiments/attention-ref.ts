/**
 * Quantized attention on the reference model (4 layers, d 128, 4 heads of 32, context 128, batch 16): BF16 and
 * Quartet linear layers, each with f32 attention and with SageBwd's 8-bit attention (issue 12's training
 * table; the fine-tuning rows are `train --init-from` runs, see the closing note). 50 steps (102k tokens)
 * per run, short enough for the shared 2-core machine. `deno task sweep experiments/attention-ref.ts`.
 * @module
 */
import { defineExperiment } from "../lib/spec/schema.ts";

export default defineExperiment({
  name: "attention-ref",
  description:
    "bf16 and quartet linears × fp32 and sagebwd attention on the reference model, 102k tokens each",
  data: "sotu",
  models: [{ name: "ref", layers: 4, dModel: 128 }],
  schemes: ["bf16", "quartet"],
  attention: ["fp32", "sagebwd"],
  tokens: { absolute: [102400] },
  seeds: [0],
  optimizer: { kind: "adamw", lr: { rule: "constant", value: 3e-3 } },
  batch: 16,
  context: 128,
  evalTokens: 16384,
  checkpointEvery: 0,
});
