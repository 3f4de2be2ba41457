/**
 * The two feed-forward blocks, each owning its forward and backward recording:
 *
 * - {@link SwiGluMlp} (Llama): Y = down(silu(gate(X)) ⊙ up(X)), gate and up fused as one [2f, d] linear.
 * - {@link GeluMlp} (DiT): Y = fc2(gelu_tanh(fc1(X))), both linears with bias.
 * @module
 */
import * as K from "../../kernels/engine/ops.ts";
import type { Program, Runtime } from "../gpu/runtime.ts";
import type { Linear, LinearParams, Scratch } from "./linear.ts";
import { kernel } from "./record.ts";

/** SwiGLU MLP over M rows of width d with hidden size f. */
export class SwiGluMlp {
  /** Fused gate/up activations [M, 2f]. */
  readonly gu: GPUBuffer;
  /** silu(gate)·up [M, f]. */
  readonly a: GPUBuffer;
  /** Creates the layer and its activations. */
  constructor(
    readonly rt: Runtime,
    readonly o: { name: string; M: number; f: number; gateUp: Linear; down: Linear; scratch: Scratch },
  ) {
    this.gu = rt.storage(o.M * 2 * o.f * 4, `${o.name} gu`);
    this.a = rt.storage(o.M * o.f * 4, `${o.name} a`);
  }

  /** Records Y = down(swiglu(gate_up(X))) (+ residual). */
  forward(
    prog: Program,
    x: GPUBuffer,
    Pgu: LinearParams,
    Pdown: LinearParams,
    y: GPUBuffer,
    residual?: GPUBuffer,
  ) {
    const { M, f, name, gateUp, down } = this.o;
    gateUp.forward(prog, { buffer: x }, Pgu.w, { buffer: this.gu }, undefined, { bias: Pgu.b });
    // SwiGLU writes the down projection's texture operand itself (no copy pass) when that reads one
    const aTex = down.inputTexture;
    kernel(this.rt, prog, `${name} swiglu`, `swiglu:${M}:${f}:${!!aTex}`, () => K.swigluFwd(M, f, !!aTex), [
      this.gu,
      this.a,
      ...(aTex ? [aTex] : []),
    ], M * f / 4);
    down.forward(prog, { buffer: this.a }, Pdown.w, { buffer: y }, residual && { buffer: residual }, {
      xInTexture: !!aTex,
      bias: Pdown.b,
    });
  }

  /** Records the backward from dY: parameter gradients, dX into `dx` (overwritten). */
  backward(
    prog: Program,
    dy: GPUBuffer,
    x: GPUBuffer,
    Pgu: LinearParams,
    Pdown: LinearParams,
    Ggu: LinearParams,
    Gdown: LinearParams,
    dx: GPUBuffer,
  ) {
    const { M, f, name, gateUp, down, scratch } = this.o;
    const da = scratch.get("da", M * f), dgu = scratch.get("dgu", M * 2 * f);
    down.backward(prog, { buffer: dy }, { buffer: this.a }, Pdown.w, { buffer: da }, Gdown.w, Gdown.b);
    kernel(this.rt, prog, `${name} swiglu bwd`, `swiglubwd:${M}:${f}`, () => K.swigluBwd(M, f), [
      this.gu,
      da,
      dgu,
    ], M * f / 4);
    gateUp.backward(prog, { buffer: dgu }, { buffer: x }, Pgu.w, { buffer: dx }, Ggu.w, Ggu.b);
  }
}

/** GELU-tanh MLP over M rows with hidden size f (DiT: f = 4d). */
export class GeluMlp {
  /** fc1 outputs [M, f]. */
  readonly h: GPUBuffer;
  /** gelu(h) [M, f]. */
  readonly a: GPUBuffer;
  /** Creates the layer and its activations. */
  constructor(
    readonly rt: Runtime,
    readonly o: { name: string; M: number; f: number; fc1: Linear; fc2: Linear; scratch: Scratch },
  ) {
    this.h = rt.storage(o.M * o.f * 4, `${o.name} h`);
    this.a = rt.storage(o.M * o.f * 4, `${o.name} a`);
  }

  /** Records Y = fc2(gelu(fc1(X))) (+ residual). */
  forward(
    prog: Program,
    x: GPUBuffer,
    P1: LinearParams,
    P2: LinearParams,
    y: GPUBuffer,
    residual?: GPUBuffer,
  ) {
    const { M, f, name, fc1, fc2 } = this.o;
    fc1.forward(prog, { buffer: x }, P1.w, { buffer: this.h }, undefined, { bias: P1.b });
    kernel(
      this.rt,
      prog,
      `${name} gelu`,
      `gelu:${M * f}`,
      () => K.geluFwd(M * f),
      [this.h, this.a],
      M * f / 4,
    );
    fc2.forward(prog, { buffer: this.a }, P2.w, { buffer: y }, residual && { buffer: residual }, {
      bias: P2.b,
    });
  }

  /** Records the backward from dY: parameter gradients, dX into `dx` (overwritten). */
  backward(
    prog: Program,
    dy: GPUBuffer,
    x: GPUBuffer,
    P1: LinearParams,
    P2: LinearParams,
    G1: LinearParams,
    G2: LinearParams,
    dx: GPUBuffer,
  ) {
    const { M, f, name, fc1, fc2, scratch } = this.o;
    const da = scratch.get("da", M * f), dh = scratch.get("dh.mlp", M * f);
    fc2.backward(prog, { buffer: dy }, { buffer: this.a }, P2.w, { buffer: da }, G2.w, G2.b);
    kernel(
      this.rt,
      prog,
      `${name} gelu bwd`,
      `gelubwd:${M * f}`,
      () => K.geluBwd(M * f),
      [this.h, da, dh],
      M * f / 4,
    );
    fc1.backward(prog, { buffer: dh }, { buffer: x }, P1.w, { buffer: dx }, G1.w, G1.b);
  }
}
