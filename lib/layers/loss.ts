/**
 * Losses as layers: each records the per-row loss, then either its sum accumulated into scalars[1] (evaluation)
 * or its mean into scalars[0] with the gradient written over the model output (training).
 *
 * - {@link CrossEntropyLoss}: next-token cross-entropy over logits [M, V] (targets in the id buffer).
 * - {@link MseLoss}: squared error against a target [M, N], rows of padding tokens excluded, mean over the
 *   real values (the DiT's ε-MSE).
 * @module
 */
import * as K from "../../kernels/engine/ops.ts";
import type { Program, Runtime } from "../gpu/runtime.ts";
import { kernel } from "./record.ts";

/**
 * A loss layer as a model's programs use it: two operand buffers (ids and logits, or output and target) and
 * the model's scalars.
 */
export interface Loss {
  /** Records Σ loss accumulated into scalars[1]. */
  evalSum(prog: Program, a: GPUBuffer, b: GPUBuffer, scalars: GPUBuffer): void;
  /** Records the mean loss into scalars[0] and its gradient over the model output. */
  trainMean(prog: Program, a: GPUBuffer, b: GPUBuffer, scalars: GPUBuffer): void;
}

/**
 * Cross-entropy over M rows of V logits; targets at word `tgtOff` of the id buffer (≥ V: ignored). With
 * `runs` = K, the rows are K runs of M each and run r's scalars are scalars[4r …].
 */
export class CrossEntropyLoss implements Loss {
  readonly #loss: GPUBuffer;
  /** Allocates the per-row loss buffer. */
  constructor(readonly rt: Runtime, readonly o: { M: number; V: number; tgtOff: number; runs?: number }) {
    this.#loss = rt.storage(o.M * (o.runs ?? 1) * 4, "loss");
  }

  /** Records the per-row losses of K runs and their per-run reduction (scale, slot, accumulate). */
  #runs(prog: Program, ids: GPUBuffer, logits: GPUBuffer, scalars: GPUBuffer, train: boolean): void {
    const { M, V, tgtOff } = this.o, k = this.o.runs!, KM = k * M, g = train ? 1 / M : 1;
    kernel(
      this.rt,
      prog,
      "ce",
      `ce:${KM}:${V}:${tgtOff}:${+train}:${g}`,
      () => K.crossEntropy(KM, V, tgtOff, train, g),
      [
        ids,
        logits,
        this.#loss,
      ],
      KM,
    );
    const [scale, slot] = train ? [1 / M, 0] : [1, 1];
    kernel(
      this.rt,
      prog,
      "loss sums",
      `sumruns:${M}:${k}:${scale}:${slot}`,
      () => K.sumReduce(M, scale, slot, !train, k),
      [
        this.#loss,
        scalars,
      ],
      k,
    );
  }

  /** Records Σ loss accumulated into scalars[1]. */
  evalSum(prog: Program, ids: GPUBuffer, logits: GPUBuffer, scalars: GPUBuffer): void {
    if (this.o.runs) return this.#runs(prog, ids, logits, scalars, false);
    const { M, V, tgtOff } = this.o;
    kernel(this.rt, prog, "ce", `ce:${M}:${V}:${tgtOff}:0`, () => K.crossEntropy(M, V, tgtOff, false, 1), [
      ids,
      logits,
      this.#loss,
    ], M);
    kernel(this.rt, prog, "loss sum", `sum:${M}:acc1`, () => K.sumReduce(M, 1, 1, true), [
      this.#loss,
      scalars,
    ], 1);
  }

  /** Records mean loss into scalars[0] and overwrites the logits with d(mean)/d(logits). */
  trainMean(prog: Program, ids: GPUBuffer, logits: GPUBuffer, scalars: GPUBuffer): void {
    if (this.o.runs) return this.#runs(prog, ids, logits, scalars, true);
    const { M, V, tgtOff } = this.o;
    kernel(this.rt, prog, "ce", `ce:${M}:${V}:${tgtOff}:1`, () => K.crossEntropy(M, V, tgtOff, true, 1 / M), [
      ids,
      logits,
      this.#loss,
    ], M);
    kernel(this.rt, prog, "loss mean", `sum:${M}:mean0`, () => K.sumReduce(M, 1 / M, 0, false), [
      this.#loss,
      scalars,
    ], 1);
  }
}

/** Squared error over M rows of N values; within each group of T rows only the first `real` count. */
export class MseLoss implements Loss {
  readonly #loss: GPUBuffer;
  /** Allocates the per-row loss buffer. */
  constructor(readonly rt: Runtime, readonly o: { M: number; N: number; T: number; real: number }) {
    this.#loss = rt.storage(o.M * 4, "loss");
  }

  /** Values the mean runs over. */
  get count(): number {
    return (this.o.M / this.o.T) * this.o.real * this.o.N;
  }

  /** Records Σ (y − target)² accumulated into scalars[1]. */
  evalSum(prog: Program, y: GPUBuffer, target: GPUBuffer, scalars: GPUBuffer): void {
    const { M, N, T, real } = this.o;
    kernel(this.rt, prog, "mse", `mse:${M}:${N}:0:${T}:${real}`, () => K.mseRows(M, N, false, 1, T, real), [
      y,
      target,
      this.#loss,
    ], M);
    kernel(this.rt, prog, "loss sum", `sum:${M}:acc1`, () => K.sumReduce(M, 1, 1, true), [
      this.#loss,
      scalars,
    ], 1);
  }

  /** Records the mean into scalars[0] and overwrites y with d(mean)/dy. */
  trainMean(prog: Program, y: GPUBuffer, target: GPUBuffer, scalars: GPUBuffer): void {
    const { M, N, T, real } = this.o, n = this.count;
    const key = `mse:${M}:${N}:1:${T}:${real}:${n}`;
    kernel(
      this.rt,
      prog,
      "mse",
      key,
      () => K.mseRows(M, N, true, 1 / n, T, real),
      [y, target, this.#loss],
      M,
    );
    kernel(this.rt, prog, "loss mean", `sum:${M}:${n}:mean0`, () => K.sumReduce(M, 1 / n, 0, false), [
      this.#loss,
      scalars,
    ], 1);
  }
}
