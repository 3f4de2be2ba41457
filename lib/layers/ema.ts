/**
 * The weights' exponential moving average as a layer of the training program: an f32 buffer of averaged
 * weights on the GPU, updated after every optimizer step by one elementwise kernel (kernels/engine/ema.ts)
 * with the step's decay in a small uniform the CPU writes with the other step scalars. Nothing is read back
 * per step; the trainer copies the average into the parameters once, at the end.
 * @module
 */
import { emaUpdate } from "../../kernels/engine/ema.ts";
import type { Program, Runtime } from "../gpu/runtime.ts";
import { kernel } from "./record.ts";

/** The decay at step `s` (0-based) of an EMA of decay `ema`: min(ema, (1 + s)/(10 + s)) (warm-up). */
export function emaDecay(ema: number, s: number): number {
  return Math.min(ema, (1 + s) / (10 + s));
}

/**
 * TypeScript reference of the kernel: avg ← d·avg + c·p in f32 (each product and the sum rounded), with
 * d and c = 1 − d rounded to f32 as the uniform holds them.
 */
export function emaStepF32(avg: Float32Array, p: ArrayLike<number>, d: number): void {
  const df = Math.fround(d), cf = Math.fround(1 - d);
  for (let i = 0; i < avg.length; i++) {
    avg[i] = Math.fround(Math.fround(df * avg[i]) + Math.fround(cf * p[i]));
  }
}

/** An EMA of a flat f32 parameter buffer of `floats` floats (a multiple of 4). */
export class Ema {
  /** The averaged weights (f32). */
  readonly avg: GPUBuffer;
  /** (d, 1 − d) of the next step. */
  readonly #decay: GPUBuffer;

  /** Allocates the average and the decay uniform (inside the model's arena when built there). */
  constructor(readonly rt: Runtime, readonly o: { params: GPUBuffer; floats: number }) {
    if (o.floats % 4) throw new Error(`ema: ${o.floats} parameters is not a multiple of 4`);
    this.avg = rt.storage(o.floats * 4, "ema");
    this.#decay = rt.uniform(16, "ema decay");
  }

  /** Records avg ← d·avg + (1 − d)·params (after the optimizer). */
  record(prog: Program): void {
    const n4 = this.o.floats / 4;
    kernel(
      this.rt,
      prog,
      "ema",
      `ema:${n4}`,
      () => emaUpdate(n4),
      [this.avg, this.o.params, this.#decay],
      n4,
    );
  }

  /** Writes the decay of the next recorded update. */
  writeDecay(d: number): void {
    this.rt.device.queue.writeBuffer(this.#decay, 0, new Float32Array([d, 1 - d, 0, 0]));
  }

  /** Starts the average at the current parameters (a GPU copy; no read-back). */
  start(): void {
    this.#copy(this.o.params, this.avg);
  }

  /** Overwrites the parameters with the average (a GPU copy; no read-back). */
  load(): void {
    this.#copy(this.avg, this.o.params);
  }

  #copy(src: GPUBuffer, dst: GPUBuffer): void {
    const enc = this.rt.device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, dst, 0, this.o.floats * 4);
    this.rt.device.queue.submit([enc.finish()]);
  }
}
