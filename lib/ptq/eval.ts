/**
 * Evaluation of a quantized checkpoint: the stored (fake-quantized) weights with the activation quantizers of
 * its config in the forward pass (CPU float64 forward of lib/ptq/forward.ts).
 * @module
 */
import { loadModel } from "../engine/checkpoint.ts";
import { windowBatches } from "../data/batches.ts";
import { meanLoss } from "./forward.ts";
import { actHook } from "./quant.ts";
import type { PtqConfig } from "./checkpoint.ts";

/** Mean next-token loss of a byte string under a quantized checkpoint. */
export function evalQuantized(
  dir: string,
  bytes: Uint8Array,
  ptq: PtqConfig,
): { loss: number; tokens: number; windows: number } {
  const { cfg, params } = loadModel(dir);
  if (bytes.length < 2) throw new Error("the text has no tokens to predict (need at least 2 bytes)");
  const windows = Math.ceil((bytes.length - 1) / cfg.context);
  const { batches, tokens } = windowBatches(bytes, cfg.context, Math.min(windows, 8));
  return { loss: meanLoss(cfg, params, batches, actHook(ptq.acts)), tokens, windows };
}

/** Mean loss of a float checkpoint with the CPU forward (used to check it against the GPU engine). */
export function evalFloatCpu(dir: string, bytes: Uint8Array): number {
  const { cfg, params } = loadModel(dir);
  const windows = Math.ceil((bytes.length - 1) / cfg.context);
  return meanLoss(cfg, params, windowBatches(bytes, cfg.context, Math.min(windows, 8)).batches);
}
