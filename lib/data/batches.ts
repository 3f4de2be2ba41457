/**
 * Deterministic batches: the training split is cut into non-overlapping windows of context+1 tokens;
 * each epoch visits them in a seeded permutation. Step s uses windows [s·B, (s+1)·B) of that endless
 * sequence, so the data position of a run is simply its step and resuming is exact.
 * @module
 */
import { Rng } from "../engine/rng.ts";

/** Inputs and targets of one batch, both of length batch·context. */
export interface Batch {
  /** Input tokens. */
  inputs: Uint8Array;
  /** Next-token targets (−1: ignored). */
  targets: Int16Array;
}

/** Seeded epoch-permuted windows over a token array. */
export class BatchSampler {
  /** Tokens per window minus one (the context). */
  readonly context: number;
  /** Sequences per batch. */
  readonly batch: number;
  /** Number of windows per epoch. */
  readonly windows: number;
  #tokens: Uint8Array;
  #seed: number;
  #perm?: { epoch: number; order: Uint32Array };

  /** Throws one line when the split holds less than one window. */
  constructor(tokens: Uint8Array, context: number, batch: number, seed: number) {
    this.#tokens = tokens;
    this.context = context;
    this.batch = batch;
    this.#seed = seed;
    this.windows = Math.floor((tokens.length - 1) / context);
    if (this.windows < 1) {
      throw new Error(`data: ${tokens.length} training tokens are fewer than one window of ${context + 1}`);
    }
  }

  /** Distinct training tokens available (windows · context). */
  get availableTokens(): number {
    return this.windows * this.context;
  }

  /** Number of steps after which data starts to repeat. */
  get stepsPerEpoch(): number {
    return this.windows / this.batch;
  }

  #order(epoch: number): Uint32Array {
    if (this.#perm?.epoch === epoch) return this.#perm.order;
    const order = new Uint32Array(this.windows);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const rng = new Rng(this.#seed, 0x64617461, epoch);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    this.#perm = { epoch, order };
    return order;
  }

  /** The batch of step `step` (pure function of seed and step). */
  at(step: number): Batch {
    const T = this.context, B = this.batch;
    const inputs = new Uint8Array(B * T), targets = new Int16Array(B * T);
    for (let b = 0; b < B; b++) {
      const g = step * B + b;
      const w = this.#order(Math.floor(g / this.windows))[g % this.windows];
      const src = this.#tokens.subarray(w * T, w * T + T + 1);
      inputs.set(src.subarray(0, T), b * T);
      for (let t = 0; t < T; t++) targets[b * T + t] = src[t + 1];
    }
    return { inputs, targets };
  }
}

/**
 * The fixed held-out set: the first `maxTokens` predictions of the validation split, as batches of
 * `batch` windows of context+1 tokens (no overlap; the last window may be padded with ignored targets).
 */
export function validationBatches(val: Uint8Array, context: number, batch: number, maxTokens: number): {
  batches: Batch[];
  tokens: number;
} {
  return windowBatches(val.subarray(0, Math.min(val.length, maxTokens + 1)), context, batch);
}

/**
 * Cuts a token array into batches of non-overlapping windows: window i predicts tokens
 * i·T+1 … i·T+T from the tokens before them; every target appears exactly once; padding targets are −1.
 */
export function windowBatches(
  tokens: Uint8Array,
  context: number,
  batch: number,
): { batches: Batch[]; tokens: number } {
  const T = context, preds = Math.max(0, tokens.length - 1);
  const nWin = Math.ceil(preds / T);
  const batches: Batch[] = [];
  for (let w0 = 0; w0 < nWin; w0 += batch) {
    const inputs = new Uint8Array(batch * T), targets = new Int16Array(batch * T).fill(-1);
    for (let b = 0; b < batch && w0 + b < nWin; b++) {
      const s = (w0 + b) * T;
      for (let t = 0; t < T && s + t + 1 < tokens.length; t++) {
        inputs[b * T + t] = tokens[s + t];
        targets[b * T + t] = tokens[s + t + 1];
      }
    }
    batches.push({ inputs, targets });
  }
  return { batches, tokens: preds };
}
