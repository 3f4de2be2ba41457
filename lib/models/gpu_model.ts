/**
 * What every model on the GPU shares: the flat parameter, gradient and AdamW-moment buffers of its
 * parameter layout, the step uniform, the scalars (losses, norms) the training loop reads back, the scratch
 * pool and step uniform its linear layers share, the three recorded programs (train, grad, eval) assembled
 * from a forward, a loss and a backward, and the arena that frees them all at once.
 * @module
 */
import type { AttentionRecipe } from "../attention/recipes.ts";
import { Program, type Runtime, type Slice } from "../gpu/runtime.ts";
import type { ParamLayout } from "./layout.ts";
import { Linear, type LinearOptions, type LinearScheme, Scratch } from "../layers/linear.ts";
import type { Loss } from "../layers/loss.ts";
import { AdamW } from "../layers/optimizer.ts";
import type { Runs } from "../layers/record.ts";

/** Options for building a model of any family on the GPU. */
export interface ModelOptions {
  /** Sequences (Llama) or images (DiT) per batch. */
  batch: number;
  /** The linear layers' recipe, resolved up front (lib/schemes/resolve.ts); default f32. */
  recipe?: LinearScheme;
  /** Build the training program (backward + optimizer); false for eval-only models. */
  train?: boolean;
  /** Linear layers read operands through textures when shapes allow (default true; false: storage buffers). */
  textures?: boolean;
  /** Attention recipe of every block, resolved up front (lib/attention/recipes.ts); default f32. */
  attention?: AttentionRecipe;
  /** K packed runs of this shape in one model (lib/engine/pack.ts); default 1. */
  runs?: number;
}

/** Buffers and programs of a model instance; a family's model records them in its constructor. */
export abstract class GpuModelBase {
  /** Flat parameter layout. */
  readonly layout: ParamLayout;
  /** Runtime. */
  readonly rt: Runtime;
  /** Flat parameters (f32 master weights). */
  readonly params: GPUBuffer;
  /** Flat gradients. */
  readonly grads: GPUBuffer;
  /** AdamW first moments. */
  readonly m1: GPUBuffer;
  /** AdamW second moments. */
  readonly m2: GPUBuffer;
  /** Step uniform: lr, lr/bc1, sqrt(bc2), seed (packed: a storage buffer with one such record per run). */
  readonly stepUniform: GPUBuffer;
  /** Scalars: [0] mean train loss, [1] eval loss sum, [2] grad norm, [3] clip coef (packed: run r at [4r…]). */
  readonly scalars: GPUBuffer;
  /** Packed runs (K ≥ 2, parameter slabs of `layout.totalFloats`); undefined for one run. */
  readonly pack?: Runs;
  /** Whether the training programs (backward + optimizer) are recorded. */
  readonly train: boolean;
  /** Forward + loss + backward + clip + AdamW (training programs only). */
  readonly trainProgram: Program = new Program();
  /** Forward + backward only (gradients for tests). */
  readonly gradProgram: Program = new Program();
  /** Forward + loss, accumulating the summed loss into scalars[1]. */
  readonly evalProgram: Program = new Program();
  /** The clip buffer (grad norm, coefficient) of the last step; training programs only. */
  clipBuffer: GPUBuffer | undefined;
  /** Scratch pool shared by the model's layers (allocated on first use). */
  protected readonly scratch: Scratch;

  /** Allocates the shared buffers (call inside an arena, see {@link buildModel}). */
  protected constructor(rt: Runtime, layout: ParamLayout, train: boolean, runs = 1) {
    this.rt = rt;
    this.layout = layout;
    this.train = train;
    this.scratch = new Scratch(rt);
    if (runs > 1) this.pack = { runs, stride: layout.totalFloats };
    const buf = (floats: number, label: string) => rt.storage(floats * 4, label);
    const all = layout.totalFloats * runs;
    this.params = buf(all, "params");
    this.grads = buf(train ? all : 4, "grads");
    this.m1 = buf(train ? all : 4, "adam m");
    this.m2 = buf(train ? all : 4, "adam v");
    this.stepUniform = runs > 1 ? buf(4 * runs, "steps") : rt.uniform(16, "step");
    this.scalars = buf(4 * runs, "scalars");
  }

  /** The parameter slice of tensor `name`. */
  P(name: string): Slice {
    const t = this.layout.byName.get(name);
    if (!t) throw new Error(`model: no parameter ${name}`);
    return { buffer: this.params, offset: t.offset * 4, size: t.size * 4 };
  }

  /** The gradient slice of tensor `name`. */
  G(name: string): Slice {
    const t = this.layout.byName.get(name);
    if (!t) throw new Error(`model: no parameter ${name}`);
    return { buffer: this.grads, offset: t.offset * 4, size: t.size * 4 };
  }

  /** A storage buffer of `floats` f32 values (activations, inputs, constants). */
  protected buffer(floats: number, label: string): GPUBuffer {
    return this.rt.storage(floats * 4, label);
  }

  /** A linear layer of this model: its step uniform, scratch pool and packed runs filled in. */
  protected linear(o: Omit<LinearOptions, "stepUniform" | "scratch" | "runs">): Linear {
    return new Linear(this.rt, {
      ...o,
      stepUniform: this.stepUniform,
      scratch: this.scratch,
      runs: this.pack,
    });
  }

  /**
   * Records the three programs from a recorded forward: eval = forward + the loss's sum into scalars[1];
   * grad = forward + the loss's mean (its gradient over the output) + `backward`; train = grad + clip + AdamW
   * (`weightDecay` default the engine's). Eval-only models stop after the eval program.
   */
  protected record(
    fwd: Program,
    loss: Loss,
    operands: [GPUBuffer, GPUBuffer],
    backward: (bwd: Program) => void,
    weightDecay?: number,
  ): void {
    this.evalProgram.items.push(...fwd.items);
    loss.evalSum(this.evalProgram, ...operands, this.scalars);
    if (!this.train) return;
    const bwd = this.gradProgram;
    bwd.items.push(...fwd.items);
    loss.trainMean(bwd, ...operands, this.scalars);
    backward(bwd);
    this.trainProgram.items.push(...bwd.items);
    const { totalFloats, decayFloats } = this.layout;
    const opt = new AdamW(this.rt, {
      totalFloats,
      decayFloats,
      state: this,
      runs: this.pack?.runs,
      weightDecay,
    });
    opt.record(this.trainProgram);
    this.clipBuffer = opt.clip;
  }

  #owned: (GPUBuffer | GPUTexture)[] = [];

  /** Releases every buffer and texture of the model (call once the queue no longer uses them). */
  destroy(): void {
    this.rt.freeAll(this.#owned);
  }

  /** Records what {@link buildModel} allocated for this model. */
  adopt(owned: (GPUBuffer | GPUTexture)[]): void {
    this.#owned = owned;
  }

  /** Uploads flat parameters. */
  setParams(p: Float32Array): void {
    this.rt.device.queue.writeBuffer(this.params, 0, p as Float32Array<ArrayBuffer>);
  }

  /** Uploads optimizer moments. */
  setMoments(m: Float32Array, v: Float32Array): void {
    this.rt.device.queue.writeBuffer(this.m1, 0, m as Float32Array<ArrayBuffer>);
    this.rt.device.queue.writeBuffer(this.m2, 0, v as Float32Array<ArrayBuffer>);
  }

  /** Writes the step uniform (values rounded to f32 exactly as the kernels see them). */
  writeStep(lr: number, stepSize: number, sqrtBc2: number, seed: number): void {
    const b = new ArrayBuffer(16);
    new Float32Array(b, 0, 3).set([lr, stepSize, sqrtBc2]);
    new Uint32Array(b, 12, 1)[0] = seed >>> 0;
    this.rt.device.queue.writeBuffer(this.stepUniform, 0, b);
  }

  /** Writes the step scalars of every packed run, as {@link writeStep} does for one. */
  writeSteps(steps: { lr: number; stepSize: number; sqrtBc2: number; seed: number }[]): void {
    const b = new ArrayBuffer(16 * steps.length), f = new Float32Array(b), u = new Uint32Array(b);
    steps.forEach((s, r) => {
      f.set([s.lr, s.stepSize, s.sqrtBc2], 4 * r);
      u[4 * r + 3] = s.seed >>> 0;
    });
    this.rt.device.queue.writeBuffer(this.stepUniform, 0, b);
  }

  /** Zeroes scalars[1] (the eval accumulator; of every run when packed). */
  resetEvalSum(): void {
    if (this.pack) {
      const s = new Float32Array(4 * this.pack.runs);
      return this.rt.device.queue.writeBuffer(this.scalars, 0, s);
    }
    this.rt.device.queue.writeBuffer(this.scalars, 4, new Float32Array([0]));
  }

  /** Reads a flat f32 buffer (awaits). */
  async readFloats(b: GPUBuffer, floats?: number): Promise<Float32Array> {
    return new Float32Array(await this.rt.read(b, (floats ?? b.size / 4) * 4));
  }
}

/** Builds a model inside an arena so that {@link GpuModelBase.destroy} frees everything it allocated. */
export function buildModel<M extends GpuModelBase>(rt: Runtime, make: () => M): M {
  rt.openArena();
  let m: M;
  try {
    m = make();
  } catch (e) {
    rt.freeAll(rt.closeArena());
    throw e;
  }
  m.adopt(rt.closeArena());
  return m;
}
