/**
 * `deno task eval --checkpoint DIR --text FILE [--json]`: mean next-token loss (nats) of the file's
 * bytes under a checkpoint: one forward pass when the file fits the context, else non-overlapping
 * windows. `deno task eval --checkpoint DIR --inputs FILE.safetensors [--json]`: a DiT checkpoint's
 * mean ε-MSE over an inputs file (x0, y, t, noise; lib/models/dit/evaluate.ts). Errors (bad arguments, missing or corrupt checkpoint, no tokens): one line, exit code 2.
 * @module
 */
import { parseArgs } from "node:util";
import { evaluate, getRuntime } from "../lib/engine/train.ts";
import { loadModel } from "../lib/engine/checkpoint.ts";
import { GpuModel } from "../lib/models/llama/model.ts";
import { windowBatches } from "../lib/data/batches.ts";
import { resolveRecipe } from "../lib/schemes/resolve.ts";
import { evalCheckpointOnInputs } from "../lib/models/dit/evaluate.ts";
import { gpuPredictor, gpuUnsupported } from "../lib/models/dit/gpu_predictor.ts";
import { referencePredictor } from "../lib/models/dit/sample.ts";
import { ditScheme } from "../lib/models/dit/checkpoint.ts";

/** Evaluates a checkpoint on a byte string; returns the mean loss and counts. */
export async function evalCheckpoint(
  dir: string,
  bytes: Uint8Array,
): Promise<{ loss: number; tokens: number; windows: number }> {
  const { cfg, params, scheme } = loadModel(dir);
  if (bytes.length < 2) throw new Error("the text has no tokens to predict (need at least 2 bytes)");
  const windows = Math.ceil((bytes.length - 1) / cfg.context);
  const batch = Math.min(windows, 8);
  const { rt } = await getRuntime();
  const recipe = resolveRecipe({
    fwd: scheme.fwd,
    bwd: "fp32",
    ...(scheme.fwdDef ? { fwdDef: scheme.fwdDef } : {}),
  });
  const model = GpuModel.create(rt, cfg, { batch, recipe, train: false });
  model.setParams(params);
  const { batches, tokens } = windowBatches(bytes, cfg.context, batch);
  return { loss: await evaluate(model, batches), tokens, windows };
}

if (import.meta.main) {
  try {
    const { values: v, positionals } = parseArgs({
      args: Deno.args,
      strict: true,
      allowPositionals: true,
      options: {
        checkpoint: { type: "string" },
        text: { type: "string" },
        inputs: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean" },
      },
    });
    if (v.help) {
      console.log(
        "deno task eval --checkpoint DIR --text FILE [--json]              mean next-token loss of a Llama checkpoint\n" +
          "deno task eval --checkpoint DIR --inputs FILE.safetensors [--json]  mean ε-MSE of a DiT checkpoint over\n" +
          "                                                                   x0 [B,1,28,28], y [B], t [B], noise [B,1,28,28]",
      );
      Deno.exit(0);
    }
    if (positionals.length) throw new Error(`unexpected argument "${positionals[0]}"`);
    if (v.checkpoint && v.inputs && !v.text) {
      const r = await evalCheckpointOnInputs(
        v.checkpoint,
        v.inputs,
        (c, p) => gpuUnsupported(c) ? referencePredictor(c, p) : gpuPredictor(c, p, ditScheme(v.checkpoint!)),
      );
      if (v.json) console.log(JSON.stringify({ checkpoint: v.checkpoint, inputs: v.inputs, ...r }));
      else console.log(`loss ${r.loss.toFixed(6)} (mean ε-MSE over ${r.batch} tuples)`);
      Deno.exit(0);
    }
    if (!v.checkpoint || !v.text) {
      throw new Error(
        "usage: deno task eval --checkpoint DIR (--text FILE | --inputs FILE.safetensors) [--json]",
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(v.text);
    } catch {
      throw new Error(`cannot read text file ${v.text}`);
    }
    const r = await evalCheckpoint(v.checkpoint, bytes);
    if (v.json) console.log(JSON.stringify({ checkpoint: v.checkpoint, text: v.text, ...r }));
    else console.log(`loss ${r.loss.toFixed(6)} nats/token over ${r.tokens} tokens (${r.windows} windows)`);
  } catch (e) {
    console.error(`eval: ${(e as Error).message}`);
    Deno.exit(2);
  }
}
