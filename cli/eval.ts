/**
 * `deno task eval --checkpoint DIR --text FILE [--json]`: mean next-token loss (nats) of the file's
 * bytes under a checkpoint: one forward pass when the file fits the context, else non-overlapping
 * windows. `--help` prints the usage. Errors (bad arguments, missing or corrupt checkpoint, no tokens):
 * one line `eval: …`, exit code 2.
 * @module
 */
import { parseFlags } from "../lib/cli/args.ts";
import { exitWithParent } from "../lib/cli/parent.ts";
import { InputError, taskMessage } from "../lib/spec/errors.ts";
import { unreadable } from "../lib/spec/load.ts";
import { evaluate, getRuntime } from "../lib/engine/train.ts";
import { loadModel } from "../lib/engine/checkpoint.ts";
import { GpuModel } from "../lib/engine/model.ts";
import { windowBatches } from "../lib/data/batches.ts";

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
  const model = GpuModel.create(rt, cfg, { batch, scheme: { fwd: scheme.fwd, bwd: "fp32" }, train: false });
  model.setParams(params);
  const { batches, tokens } = windowBatches(bytes, cfg.context, batch);
  return { loss: await evaluate(model, batches), tokens, windows };
}

const USAGE = "usage: deno task eval --checkpoint DIR --text FILE [--json]\n" +
  "  mean next-token loss (nats/token) of FILE's bytes under the checkpoint in DIR (from train --out)";

/** Parses eval's arguments: "help", or the checkpoint and text paths; InputError (one line) otherwise. */
export function evalArgs(args: string[]): "help" | { checkpoint: string; text: string; json: boolean } {
  const { values: v, positionals, help } = parseFlags(args, {
    checkpoint: { type: "string" },
    text: { type: "string" },
    json: { type: "boolean" },
  });
  if (help) return "help";
  if (positionals.length) throw new InputError(`unexpected argument "${positionals[0]}" (see --help)`);
  if (typeof v.checkpoint !== "string" || typeof v.text !== "string") {
    throw new InputError("--checkpoint DIR and --text FILE are required (see --help)");
  }
  return { checkpoint: v.checkpoint, text: v.text, json: v.json === true };
}

if (import.meta.main) {
  exitWithParent("eval");
  try {
    const a = evalArgs(Deno.args);
    if (a === "help") {
      console.log(USAGE);
      Deno.exit(0);
    }
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(a.text);
    } catch (e) {
      throw unreadable("text file", a.text, e);
    }
    const r = await evalCheckpoint(a.checkpoint, bytes);
    if (a.json) console.log(JSON.stringify({ checkpoint: a.checkpoint, text: a.text, ...r }));
    else console.log(`loss ${r.loss.toFixed(6)} nats/token over ${r.tokens} tokens (${r.windows} windows)`);
  } catch (e) {
    console.error(taskMessage("eval", (e as Error).message.split("\n")[0]));
    Deno.exit(2);
  }
}
