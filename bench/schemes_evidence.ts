/**
 * Item 8 evidence: trains the reference model (4 layers, d 128, 4 heads, context 128, batch 16, byte
 * tokens of the State-of-the-Union corpus) once per scheme with the same seed, init and batches, and
 * writes one CSV row per run (final validation loss with the forward quantizers active).
 *
 * `deno run -A bench/schemes_evidence.ts [--steps 40] [--out results/schemes-evidence.csv]
 *  [--schemes bf16,fp8,…] [--lr 3e-3] [--data sotu]`; exports `main(args)` for the bench dispatcher.
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { train } from "../lib/engine/train.ts";
import { resolveModelConfig } from "../lib/models/llama/config.ts";
import { schemePair } from "../lib/schemes/catalog.ts";

/** The schemes of the evidence list (forward-only labels run with a BF16 backward, and vice versa). */
export const EVIDENCE_SCHEMES = [
  "bf16",
  "fp8",
  "rtn-absmax",
  "sr-absmax",
  "quest",
  "rtn-bwd",
  "sr-bwd",
  "quartet",
  "fp4-dge-occ",
  "fp4-direct",
  "fp4-mixed",
];

/** Runs the evidence sweep; one CSV row per scheme, appended as each run finishes. */
export async function main(args: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args,
    options: {
      steps: { type: "string", default: "40" },
      out: { type: "string", default: "results/schemes-evidence.csv" },
      schemes: { type: "string", default: EVIDENCE_SCHEMES.join(",") },
      lr: { type: "string", default: "3e-3" },
      data: { type: "string", default: "sotu" },
      seed: { type: "string", default: "0" },
    },
  });
  const names = v.schemes!.split(",");
  for (const n of names) {
    if (!schemePair(n)) {
      console.error(`schemes_evidence: unknown scheme "${n}"`);
      Deno.exit(2);
    }
  }
  const model = resolveModelConfig({ layers: 4, dModel: 128, heads: 4, context: 128 });
  const steps = Number(v.steps), lr = Number(v.lr), seed = Number(v.seed);
  await Deno.mkdir(v.out!.replace(/\/[^/]*$/, ""), { recursive: true }).catch(() => {});
  const header =
    "scheme,fwd,bwd,steps,tokens,final_val_loss,final_train_loss,status,tokens_per_s,wall_s,cpu_s\n";
  await Deno.writeTextFile(v.out!, header);
  for (const name of names) {
    const pair = schemePair(name)!;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      const r = await train({
        model,
        batch: 16,
        steps,
        lr,
        seed,
        data: v.data!,
        scheme: pair,
        evalEvery: 0,
        evalTokens: 32768,
      });
      const c = process.cpuUsage(cpu0);
      const cpu = (c.user + c.system) / 1e6;
      const row = [
        name,
        pair.fwd,
        pair.bwd,
        r.steps,
        r.tokens,
        r.finalValLoss.toFixed(4),
        r.finalTrainLoss.toFixed(4),
        r.status,
        r.tokensPerSecond.toFixed(0),
        ((performance.now() - t0) / 1000).toFixed(1),
        cpu.toFixed(1),
      ].join(",");
      await Deno.writeTextFile(v.out!, row + "\n", { append: true });
      console.log(row);
    } catch (e) {
      await Deno.writeTextFile(v.out!, `${name},${pair.fwd},${pair.bwd},${steps},,,,error,,,\n`, {
        append: true,
      });
      console.error(`${name}: ${(e as Error).message}`);
    }
  }
}

if (import.meta.main) await main(Deno.args);
