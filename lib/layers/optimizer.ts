/**
 * The optimizer as a layer of the training program: global gradient-norm clipping (PyTorch
 * `clip_grad_norm_`) and AdamW (decoupled weight decay) over a flat parameter buffer whose decayed tensors
 * come first, so the update runs as two contiguous ranges.
 * @module
 */
import * as K from "../../kernels/engine/ops.ts";
import type { Program, Runtime, Slice } from "../gpu/runtime.ts";
import { kernel } from "./record.ts";

/** AdamW and clipping constants (Quartet §2.2). */
export const OPT = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1.0 } as const;

/** Buffers the optimizer updates. */
export interface OptimizerState {
  /** Flat parameters (f32 master weights). */
  params: GPUBuffer;
  /** Flat gradients. */
  grads: GPUBuffer;
  /** First moments. */
  m1: GPUBuffer;
  /** Second moments. */
  m2: GPUBuffer;
  /** Step uniform: lr, lr/bc1, sqrt(bc2), seed (with `runs`: a storage buffer of one such record per run). */
  stepUniform: GPUBuffer;
}

/**
 * Clip + AdamW over `totalFloats` floats, the first `decayFloats` with weight decay. With `runs` = K the
 * buffers hold K slabs of `totalFloats`, each clipped by its own norm and stepped with its own scalars.
 */
export class AdamW {
  /** [0] gradient norm, [1] clip coefficient of the last step (run r: [4r], [4r + 1]). */
  readonly clip: GPUBuffer;
  readonly #partial: GPUBuffer;
  readonly #parts: number;
  static readonly #chunk = 256;

  /**
   * Creates the optimizer's scratch buffers. `weightDecay` (default {@link OPT}.weightDecay) applies to the
   * first `decayFloats` floats; 0 turns decay off (the original DiT's AdamW).
   */
  constructor(
    readonly rt: Runtime,
    readonly o: {
      totalFloats: number;
      decayFloats: number;
      state: OptimizerState;
      runs?: number;
      weightDecay?: number;
    },
  ) {
    const k = o.runs ?? 1;
    this.#parts = Math.ceil(o.totalFloats / 4 / AdamW.#chunk);
    this.#partial = rt.storage(this.#parts * k * 4, "norm parts");
    this.clip = rt.storage(16 * k, "clip");
  }

  /** Records the gradient norm, the clip coefficient and the AdamW update. */
  record(prog: Program): void {
    const { totalFloats, decayFloats, state, runs } = this.o;
    const n4 = totalFloats / 4, chunk = AdamW.#chunk, parts = this.#parts, k = runs ?? 1;
    // K packed runs: one dispatch per stage for all runs, each run clipped by its own norm
    const [sqKey, clipKey] = runs
      ? [`sumsqruns:${n4}:${chunk}:${k}`, `clipruns:${parts}:${OPT.clip}:${k}`]
      : [`sumsq:${n4}:${chunk}`, `clip:${parts}:${OPT.clip}`];
    kernel(this.rt, prog, "grad norm", sqKey, () => K.sumSquaresPartial(n4, chunk, k), [
      state.grads,
      this.#partial,
    ], k * parts);
    kernel(
      this.rt,
      prog,
      "clip",
      clipKey,
      () => K.clipCoef(parts, OPT.clip, k),
      [this.#partial, this.clip],
      k,
    );
    if (runs) return this.#adamwRuns(prog, runs);
    const ranges: [number, number, number][] = [[0, decayFloats, this.o.weightDecay ?? OPT.weightDecay], [
      decayFloats,
      totalFloats - decayFloats,
      0,
    ]];
    for (const [off, n, wd] of ranges) {
      if (n === 0) continue;
      const sl = (b: GPUBuffer): Slice => ({ buffer: b, offset: off * 4, size: n * 4 });
      kernel(
        this.rt,
        prog,
        `adamw wd=${wd}`,
        `adamw:${n / 4}:${wd}`,
        () => K.adamw(n / 4, OPT.beta1, OPT.beta2, OPT.eps, wd),
        [
          sl(state.params),
          sl(state.grads),
          sl(state.m1),
          sl(state.m2),
          this.clip,
          state.stepUniform,
        ],
        n / 4,
      );
    }
  }

  /** AdamW of K runs over their whole slabs in one dispatch, the first `decayFloats` of each decayed. */
  #adamwRuns(prog: Program, k: number): void {
    const { totalFloats, decayFloats, state } = this.o, n4 = totalFloats / 4;
    const wd = this.o.weightDecay ?? OPT.weightDecay;
    const code = () => K.adamw(n4, OPT.beta1, OPT.beta2, OPT.eps, wd, k, decayFloats / 4);
    kernel(this.rt, prog, "adamw", `adamwruns:${n4}:${decayFloats / 4}:${k}:${wd}`, code, [
      state.params,
      state.grads,
      state.m1,
      state.m2,
      this.clip,
      state.stepUniform,
    ], k * n4);
  }
}
