/**
 * Normalisation layers with their forward and backward recording:
 *
 * - {@link RmsNorm}: y = x / rms(x) · w (Llama), rstd per row kept for the backward.
 * - {@link AdaLayerNorm}: LayerNorm without affine, then the adaLN modulation of DiT,
 *   y = x̂ · (1 + scale[b]) + shift[b], with shift/scale rows of a per-sample modulation tensor.
 * @module
 */
import * as K from "../../kernels/engine/ops.ts";
import type { Program, Runtime, Slice } from "../gpu/runtime.ts";
import { allRuns, kernel, type Runs } from "./record.ts";

/** RMSNorm over rows of [M, d] with a learned weight (M rows per run and a weight per run, with `runs`). */
export class RmsNorm {
  /** Per-row 1/rms of the last forward. */
  readonly rstd: GPUBuffer;
  /** Creates the layer (allocates its rstd buffer). */
  constructor(
    readonly rt: Runtime,
    readonly o: { name: string; M: number; d: number; eps: number; runs?: Runs },
  ) {
    this.rstd = rt.storage(o.M * (o.runs?.runs ?? 1) * 4, `${o.name} rstd`);
  }

  /** Records y = rmsnorm(x) · w. */
  forward(prog: Program, x: GPUBuffer, w: Slice, y: GPUBuffer): void {
    const { M, d, eps, runs } = this.o, k = runs?.runs ?? 1;
    const key = runs ? `rmsruns:${M}:${d}:${eps}:${k}:${runs.stride}` : `rms:${M}:${d}:${eps}`;
    const bind = [x, allRuns(w, d, runs), y, this.rstd];
    kernel(this.rt, prog, this.o.name, key, () => K.rmsFwd(M, d, eps, runs), bind, k * M);
  }

  /** Records dw and dx (added to dx's contents when `accumulate`: the residual-stream gradient). */
  backward(
    prog: Program,
    dy: GPUBuffer,
    x: GPUBuffer,
    w: Slice,
    dw: Slice,
    dx: GPUBuffer,
    accumulate: boolean,
  ) {
    const { M, d, runs } = this.o, k = runs?.runs ?? 1, S = runs?.stride;
    const dwKey = runs ? `rmsdwruns:${M}:${d}:${k}:${S}` : `rmsdw:${M}:${d}`;
    kernel(this.rt, prog, `${this.o.name} dw`, dwKey, () => K.rmsDw(M, d, runs), [
      dy,
      x,
      this.rstd,
      allRuns(dw, d, runs),
    ], k * d / 4);
    const key = runs ? `rmsbwdruns:${M}:${d}:${accumulate}:${k}:${S}` : `rmsbwd:${M}:${d}:${accumulate}`;
    const bind = [dy, x, allRuns(w, d, runs), this.rstd, dx];
    kernel(this.rt, prog, `${this.o.name} dx`, key, () => K.rmsBwd(M, d, accumulate, runs), bind, k * M);
  }
}

/**
 * LayerNorm without affine (eps 1e-6 in DiT) followed by adaLN modulation. Rows are `T` tokens of each of
 * `B` samples; the modulation tensor `mod` is [B, stride] with shift at column `shiftAt` and scale at
 * `scaleAt` (each d wide).
 */
export class AdaLayerNorm {
  /** Per-row mean and rstd of the last forward ([M, 2]). */
  readonly stats: GPUBuffer;
  /** Creates the layer. */
  constructor(
    readonly rt: Runtime,
    readonly o: {
      name: string;
      B: number;
      T: number;
      d: number;
      eps: number;
      stride: number;
      shiftAt: number;
      scaleAt: number;
    },
  ) {
    this.stats = rt.storage(o.B * o.T * 8, `${o.name} stats`);
  }

  /** Records y = LN(x)·(1 + scale) + shift. */
  forward(prog: Program, x: GPUBuffer, mod: GPUBuffer, y: GPUBuffer): void {
    const { B, T, d, eps, stride, shiftAt, scaleAt } = this.o;
    const key = `lnmod:${B}:${T}:${d}:${eps}:${stride}:${shiftAt}:${scaleAt}`;
    kernel(this.rt, prog, this.o.name, key, () => K.lnModFwd(B, T, d, eps, stride, shiftAt, scaleAt), [
      x,
      mod,
      y,
      this.stats,
    ], B * T);
  }

  /**
   * Records the backward: dmod's shift and scale columns (overwritten), and dx (added to dx's contents when
   * `accumulate`).
   */
  backward(
    prog: Program,
    dy: GPUBuffer,
    x: GPUBuffer,
    mod: GPUBuffer,
    dmod: GPUBuffer,
    dx: GPUBuffer,
    accumulate: boolean,
  ) {
    const { B, T, d, stride, shiftAt, scaleAt } = this.o;
    const k1 = `lnmoddmod:${B}:${T}:${d}:${stride}:${shiftAt}:${scaleAt}`;
    kernel(this.rt, prog, `${this.o.name} dmod`, k1, () => K.lnModDmod(B, T, d, stride, shiftAt, scaleAt), [
      dy,
      x,
      this.stats,
      dmod,
    ], B * d / 4);
    const k2 = `lnmodbwd:${B}:${T}:${d}:${stride}:${scaleAt}:${accumulate}`;
    kernel(this.rt, prog, `${this.o.name} dx`, k2, () => K.lnModBwd(B, T, d, stride, scaleAt, accumulate), [
      dy,
      x,
      mod,
      this.stats,
      dx,
    ], B * T);
  }
}
