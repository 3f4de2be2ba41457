/**
 * `deno task attention-check --checkpoint DIR --text FILE [--recipes a,b,…] [--batch N] [--json]`: captures
 * real Q, K, V and dO of every layer of a trained Llama on the text's first context windows (float64
 * reference model) and prints, per attention recipe and layer, the cosine similarity and relative L2 error of
 * the attention output (and of dQ, dK, dV for training recipes) against exact attention. With `--json`:
 * `{recipes: {NAME: {cosSim, relL2, [dq, dk, dv], layers: [...]}}}`, top-level figures = means over layers.
 * Bad arguments: one line `attention-check: …`, exit 2.
 * @module
 */
import { parseArgs } from "node:util";
import { loadModel } from "../lib/engine/checkpoint.ts";
import { ATTENTION_RECIPES, attentionRecipe } from "../lib/attention/recipes.ts";
import { captureAttention, checkRecipe, type RecipeAgreement } from "../lib/attention/check.ts";

const USAGE =
  "usage: deno task attention-check --checkpoint DIR --text FILE [--recipes NAME,…] [--batch 2] [--json]";

if (import.meta.main) {
  let a;
  try {
    const { values: v, positionals } = parseArgs({
      args: Deno.args,
      strict: true,
      allowPositionals: true,
      options: {
        checkpoint: { type: "string" },
        text: { type: "string" },
        recipes: { type: "string" },
        batch: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean" },
      },
    });
    if (v.help) {
      console.log(USAGE);
      Deno.exit(0);
    }
    if (positionals.length) throw new Error(`unexpected argument "${positionals[0]}"`);
    if (!v.checkpoint || !v.text) {
      throw new Error("--checkpoint DIR and --text FILE are required (see --help)");
    }
    const recipes = v.recipes
      ? v.recipes.split(",").map((n) => attentionRecipe(n.trim()))
      : [...ATTENTION_RECIPES];
    const batch = Number(v.batch ?? 2);
    if (!Number.isInteger(batch) || batch < 1) {
      throw new Error(`--batch must be a positive integer (got "${v.batch}")`);
    }
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(v.text);
    } catch {
      throw new Error(`cannot read text file ${v.text}`);
    }
    const model = loadModel(v.checkpoint);
    a = { ...v, recipes, batch, bytes, model };
  } catch (e) {
    console.error(`attention-check: ${(e as Error).message.split("\n")[0]}`);
    Deno.exit(2);
  }
  const cap = captureAttention(a.model.cfg, a.model.params, a.bytes, a.batch);
  const out: Record<string, RecipeAgreement> = {};
  for (const r of a.recipes) out[r.name] = checkRecipe(r, cap);
  if (a.json) {
    console.log(
      JSON.stringify({ checkpoint: a.checkpoint, text: a.text, sequences: cap.batch, recipes: out }),
    );
  } else {
    const f = (
      x?: { cosSim: number; relL2: number },
    ) => (x ? `${x.cosSim.toFixed(5)} ${x.relL2.toExponential(2)}` : "");
    console.log(
      `${cap.batch} sequences × ${a.model.cfg.context} tokens, ${a.model.cfg.layers} layers (cos-sim rel-L2; recipe rows: means over layers)`,
    );
    console.log(`${"recipe".padEnd(16)} ${"output".padEnd(18)} ${"dQ".padEnd(18)} ${"dK".padEnd(18)} dV`);
    for (const [n, r] of Object.entries(out)) {
      console.log(
        `${n.padEnd(16)} ${f(r).padEnd(18)} ${f(r.dq).padEnd(18)} ${f(r.dk).padEnd(18)} ${f(r.dv)}`,
      );
      for (const l of r.layers) {
        const name = `  layer ${l.layer}`;
        console.log(
          `${name.padEnd(16)} ${f(l).padEnd(18)} ${f(l.dq).padEnd(18)} ${f(l.dk).padEnd(18)} ${f(l.dv)}`,
        );
      }
    }
  }
}
