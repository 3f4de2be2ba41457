/**
 * `deno task eval --checkpoint DIR --text FILE [--attention NAME] [--json]`: mean next-token loss (nats) of
 * the file's bytes under a checkpoint, optionally with a quantized attention recipe (lib/attention): one forward pass when the file fits the context, else non-overlapping
 * windows. `deno task eval --checkpoint DIR --inputs FILE.safetensors [--json]`: a DiT checkpoint's
 * mean ε-MSE over an inputs file (x0, y, t, noise; lib/models/dit/evaluate.ts). `--help` prints the usage.
 * A quantized checkpoint (`deno task ptq`) runs with its activation quantizers (lib/ptq).
 * Errors (bad arguments, missing or corrupt checkpoint, no tokens): one line `eval: …`, exit code 2.
 * @module
 */
import { parseFlags } from "../lib/cli/args.ts";
import { exitWithParent } from "../lib/cli/parent.ts";
import { InputError, taskMessage } from "../lib/spec/errors.ts";
import { unreadable } from "../lib/spec/load.ts";
import { evaluate, getRuntime } from "../lib/engine/train.ts";
import { loadModel } from "../lib/engine/checkpoint.ts";
import { GpuModel } from "../lib/models/llama/model.ts";
import { windowBatches } from "../lib/data/batches.ts";
import { resolveRecipe } from "../lib/schemes/resolve.ts";
import { type AttentionRecipe, attentionRecipe, FP32_ATTENTION } from "../lib/attention/recipes.ts";
import { evalCheckpointOnInputs } from "../lib/models/dit/evaluate.ts";
import { gpuPredictor, gpuUnsupported } from "../lib/models/dit/gpu_predictor.ts";
import { referencePredictor } from "../lib/models/dit/sample.ts";
import { ditScheme } from "../lib/models/dit/checkpoint.ts";
import { readPtqConfig } from "../lib/ptq/checkpoint.ts";
import { evalQuantized } from "../lib/ptq/eval.ts";
import { quantizedDitPredictor } from "../lib/ptq/dit_eval.ts";

/** Evaluates a checkpoint on a byte string; returns the mean loss and counts. */
export async function evalCheckpoint(
  dir: string,
  bytes: Uint8Array,
  attention: AttentionRecipe = FP32_ATTENTION,
): Promise<{ loss: number; tokens: number; windows: number }> {
  // A post-training-quantized checkpoint (deno task ptq): stored weights + its activation quantizers.
  const ptq = readPtqConfig(dir);
  if (ptq) return evalQuantized(dir, bytes, ptq);
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
  const model = GpuModel.create(rt, cfg, { batch, recipe, train: false, attention });
  model.setParams(params);
  const { batches, tokens } = windowBatches(bytes, cfg.context, batch);
  return { loss: await evaluate(model, batches), tokens, windows };
}

const USAGE =
  "usage: deno task eval --checkpoint DIR (--text FILE | --inputs FILE.safetensors) [--attention NAME] [--json]\n" +
  "  --text FILE: mean next-token loss (nats/token) of FILE's bytes under the Llama checkpoint in DIR\n" +
  "  --inputs FILE.safetensors: mean ε-MSE of the DiT checkpoint in DIR over x0 [B,1,28,28] f32, y [B] i32,\n" +
  "    t [B] i32, noise [B,1,28,28] f32";

/** What eval was asked: a checkpoint and either a text (Llama) or an inputs file (DiT). */
export interface EvalArgs {
  checkpoint: string;
  text?: string;
  inputs?: string;
  /** Attention recipe to evaluate with (lib/attention/recipes.ts; default fp32). */
  attention?: string;
  json: boolean;
}

/** Parses eval's arguments: "help", or what to evaluate; InputError (one line) otherwise. */
export function evalArgs(args: string[]): "help" | EvalArgs {
  const { values: v, positionals, help } = parseFlags(args, {
    checkpoint: { type: "string" },
    text: { type: "string" },
    inputs: { type: "string" },
    attention: { type: "string" },
    json: { type: "boolean" },
  });
  if (help) return "help";
  if (positionals.length) throw new InputError(`unexpected argument "${positionals[0]}" (see --help)`);
  if (typeof v.checkpoint !== "string" || (typeof v.text === "string") === (typeof v.inputs === "string")) {
    throw new InputError(
      "--checkpoint DIR and one of --text FILE or --inputs FILE are required (see --help)",
    );
  }
  return {
    checkpoint: v.checkpoint,
    ...(typeof v.text === "string" ? { text: v.text } : {}),
    ...(typeof v.inputs === "string" ? { inputs: v.inputs } : {}),
    ...(typeof v.attention === "string" ? { attention: v.attention } : {}),
    json: v.json === true,
  };
}

if (import.meta.main) {
  exitWithParent("eval");
  try {
    const a = evalArgs(Deno.args);
    if (a === "help") {
      console.log(USAGE);
      Deno.exit(0);
    }
    const attention = attentionRecipe(a.attention ?? "fp32");
    if (a.inputs !== undefined) {
      const ptq = readPtqConfig(a.checkpoint);
      const r = await evalCheckpointOnInputs(
        a.checkpoint,
        a.inputs,
        (c, p) =>
          ptq
            ? quantizedDitPredictor(c, p, ptq)
            : gpuUnsupported(c)
            ? referencePredictor(c, p)
            : gpuPredictor(c, p, ditScheme(a.checkpoint), { attention }),
      );
      if (a.json) console.log(JSON.stringify({ checkpoint: a.checkpoint, inputs: a.inputs, ...r }));
      else console.log(`loss ${r.loss.toFixed(6)} (mean ε-MSE over ${r.batch} tuples)`);
      Deno.exit(0);
    }
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(a.text!);
    } catch (e) {
      throw unreadable("text file", a.text!, e);
    }
    const r = await evalCheckpoint(a.checkpoint, bytes, attention);
    if (a.json) {
      console.log(
        JSON.stringify({ checkpoint: a.checkpoint, text: a.text, attention: attention.name, ...r }),
      );
    } else console.log(`loss ${r.loss.toFixed(6)} nats/token over ${r.tokens} tokens (${r.windows} windows)`);
  } catch (e) {
    console.error(taskMessage("eval", (e as Error).message.split("\n")[0]));
    Deno.exit(2);
  }
}
