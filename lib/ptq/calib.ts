/**
 * Calibration: N sequences of context length drawn (seeded) from the training split of the checkpoint's data
 * source, and the capture of every linear layer's input over them with the float model.
 * @module
 */
import type { ModelConfig } from "../engine/api.ts";
import type { Batch } from "../data/batches.ts";
import { Rng } from "../engine/rng.ts";
import { batchLoss, type InputHook } from "./forward.ts";

/** Fewest calibration sequences a recipe accepts. */
export const MIN_CALIB = 2;

/** N windows of T+1 tokens from `train` at seeded offsets, as batches of up to 8 sequences. */
export function calibrationBatches(train: Uint8Array, T: number, n: number, seed: number): Batch[] {
  if (!Number.isInteger(n) || n < MIN_CALIB) {
    throw new Error(`too few calibration samples: --calib ${n} (need at least ${MIN_CALIB} sequences)`);
  }
  if (train.length < n * (T + 1)) {
    throw new Error(
      `too few calibration samples: the training split has ${train.length} tokens, ${n} sequences of ${
        T + 1
      } need more`,
    );
  }
  const rng = new Rng(seed, 0xca11b);
  const out: Batch[] = [];
  for (let i0 = 0; i0 < n; i0 += 8) {
    const B = Math.min(8, n - i0);
    const inputs = new Uint8Array(B * T), targets = new Int16Array(B * T);
    for (let b = 0; b < B; b++) {
      const s = Math.floor(rng.float() * (train.length - T - 1));
      for (let t = 0; t < T; t++) {
        inputs[b * T + t] = train[s + t];
        targets[b * T + t] = train[s + t + 1];
      }
    }
    out.push({ inputs, targets });
  }
  return out;
}

/** Inputs of every linear layer over the calibration batches: name → X [M, inF]. */
export function captureInputs(
  c: ModelConfig,
  flat: Float32Array,
  batches: Batch[],
): { inputs: Map<string, Float64Array>; M: number } {
  let M = 0;
  const inputs = collectInputs((hook) => {
    for (const b of batches) {
      batchLoss(c, flat, b, hook);
      M += b.inputs.length;
    }
  });
  return { inputs, M };
}

/**
 * Every input that `forward` shows its linear input hook, copied and concatenated per layer in call order:
 * name → X [rows, inF] (the calibration capture of any model family).
 */
export function collectInputs(forward: (hook: InputHook) => void): Map<string, Float64Array> {
  const parts = new Map<string, Float64Array[]>();
  forward((name, X) => {
    let list = parts.get(name);
    if (!list) parts.set(name, list = []);
    list.push(Float64Array.from(X));
    return X;
  });
  const inputs = new Map<string, Float64Array>();
  for (const [name, ps] of parts) {
    const out = new Float64Array(ps.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of ps) {
      out.set(p, o);
      o += p.length;
    }
    inputs.set(name, out);
  }
  return inputs;
}
