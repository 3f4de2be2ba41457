/**
 * Multi-head self-attention with its forward and backward recording: a fused qkv projection, optional
 * rotary embedding on q and k, softmax(q·kᵀ/√hd) (causal or bidirectional), the output projection.
 *
 * ```
 * qkv = X·Wqkvᵀ (+ b)      [M, 3d], heads contiguous column blocks of hd
 * P   = softmax(scale · q·kᵀ [+ causal mask])     per (batch, head): [T, T]
 * O   = P·v  →  Y = O·Woᵀ (+ b) (+ residual)
 * ```
 *
 * The q·kᵀ and P·v GEMMs read textures when every operand fits; the forward keeps those textures per layer
 * so the backward reads the same values without a second copy.
 *
 * The attention recipe (lib/attention/recipes.ts) is a per-layer choice passed in resolved: `fp32` (the
 * default) records the exact path below; any other recipe records its quantized core (lib/attention/gpu.ts)
 * between the qkv activations and the head outputs.
 * @module
 */
import * as K from "../../kernels/engine/ops.ts";
import type { GemmSpec } from "../../kernels/engine/gemm.ts";
import type { Program, Runtime } from "../gpu/runtime.ts";
import type { Linear, LinearParams, Scratch } from "./linear.ts";
import { gemm, kernel } from "./record.ts";
import { type AttentionRecipe, isExactAttention } from "../attention/recipes.ts";
import { QuantAttentionCore } from "../attention/gpu.ts";
import { type CoreShape, headGemm, type HeadLayouts, headLayouts } from "../attention/heads.ts";

/** RoPE cos/sin table [T, hd/2] each, computed like Hugging Face (f32 inv_freq, f32 angle). */
export function ropeTable(T: number, hd: number, theta: number): Float32Array {
  const half = hd / 2;
  const out = new Float32Array(2 * T * half);
  for (let i = 0; i < half; i++) {
    const inv = Math.fround(1 / Math.fround(Math.pow(theta, Math.fround((2 * i) / hd))));
    for (let p = 0; p < T; p++) {
      const a = Math.fround(p * inv);
      out[p * half + i] = Math.cos(a);
      out[T * half + p * half + i] = Math.sin(a);
    }
  }
  return out;
}

/** The {@link ropeTable} uploaded to a new storage buffer (the `rope` of {@link AttentionOptions}). */
export function ropeBuffer(rt: Runtime, T: number, hd: number, theta: number): GPUBuffer {
  const b = rt.storage(T * hd * 4, "rope");
  rt.device.queue.writeBuffer(b, 0, ropeTable(T, hd, theta) as Float32Array<ArrayBuffer>);
  return b;
}

/** Shape and options of an attention layer. */
export interface AttentionOptions extends CoreShape {
  /** Rotary table [T, hd/2] cos then sin (none: no rotary embedding). */
  rope?: GPUBuffer;
  /** Fused q/k/v projection [3d, d]. */
  qkv: Linear;
  /** Output projection [d, d]. */
  o: Linear;
  /** Shared scratch (textures and backward buffers). */
  scratch: Scratch;
  /** Attention recipe, resolved up front (default: f32, the exact path). */
  recipe?: AttentionRecipe;
}

/** Attention layer; owns its activations (qkv, probabilities, head outputs). */
export class Attention {
  /** qkv activations [M, 3d] (rotated when rope is on). */
  readonly qkv: GPUBuffer;
  /** Attention probabilities [batch·heads, T, T]. */
  readonly p: GPUBuffer;
  /** Head outputs [M, d]. */
  readonly att: GPUBuffer;
  #fwdTex?: { qkv: GPUBuffer | GPUTextureView; p: GPUBuffer | GPUTextureView };
  readonly #M: number;
  readonly #attTex: boolean;
  readonly #core?: QuantAttentionCore;

  /** Creates the layer and its activation buffers. */
  constructor(readonly rt: Runtime, readonly o: AttentionOptions) {
    const { batch, T, d, heads: H } = o;
    const M = (this.#M = batch * T);
    this.qkv = rt.storage(M * 3 * d * 4, `${o.name} qkv`);
    this.p = rt.storage(batch * H * T * T * 4, `${o.name} p`);
    this.att = rt.storage(M * d * 4, `${o.name} att`);
    // Attention GEMMs read textures when every operand fits (rows ≤ max side, row pitch a multiple of 256 B).
    const side = rt.maxTextureSide;
    const fits = (rows: number, ld: number) => rows <= side && ld / 4 <= side && (ld * 4) % 256 === 0;
    this.#attTex = fits(M, 3 * d) && fits(batch * H * T, T) && fits(M, d);
    if (o.recipe && !isExactAttention(o.recipe)) {
      this.#core = new QuantAttentionCore(rt, o.recipe, o, {
        get: (key, floats) => o.scratch.get(key, floats),
        tx: (prog, key, b, rows, ld) => this.#tx(prog, key, b, rows, ld),
      });
    }
  }

  /** Copies buffer `b` viewed as [rows, ld] into the scratch texture `key`; returns the binding. */
  #tx(prog: Program, key: string, b: GPUBuffer, rows: number, ld: number): GPUBuffer | GPUTextureView {
    if (!this.#attTex) return b;
    const t = this.o.scratch.tex(`att.${key}`, rows, ld);
    prog.copy({ src: b, srcOffset: 0, bytesPerRow: ld * 4, dst: t.tex, width: ld / 4, height: rows });
    return t.view;
  }

  #layouts(): HeadLayouts & { BH: number; scale: number } {
    const l = headLayouts(this.o);
    return { ...l, BH: l.Z, scale: 1 / Math.sqrt(l.hd) };
  }

  /** GEMM spec of one attention product over all (batch, head) pairs. */
  #spec(M: number, N: number, K: number, mask: GemmSpec["causal"], rest: Partial<GemmSpec>): GemmSpec {
    return headGemm(this.o, M, N, K, mask, rest);
  }

  /** Records Y = attention(X) (+ residual, a buffer with Y's layout). */
  forward(
    prog: Program,
    x: GPUBuffer,
    P: LinearParams,
    Po: LinearParams,
    y: GPUBuffer,
    residual?: GPUBuffer,
  ): void {
    const { T, d, name, causal } = this.o, M = this.#M, { BH, hd, qkvL, attL, pL, scale } = this.#layouts();
    this.o.qkv.forward(prog, { buffer: x }, P.w, { buffer: this.qkv }, undefined, { bias: P.b });
    if (this.o.rope) {
      kernel(this.rt, prog, `${name} rope`, `rope:${M}:${T}:${d}:${hd}:0`, () => K.rope(M, T, d, hd, false), [
        this.qkv,
        this.o.rope,
      ], (M * d) / 4);
    }
    if (this.#core) {
      this.#core.forward(prog, this.qkv, this.p, this.att);
      this.o.o.forward(prog, { buffer: this.att }, Po.w, { buffer: y }, residual && { buffer: residual }, {
        bias: Po.b,
      });
      return;
    }
    const tq = this.#tx(prog, `qkv${name}`, this.qkv, M, 3 * d);
    const qk = this.#spec(T, T, hd, "skip", { transB: true, a: qkvL(0), b: qkvL(1), c: pL, alpha: scale });
    gemm(this.rt, prog, `${name} qk`, qk, [tq, tq, this.p]);
    if (causal) {
      kernel(
        this.rt,
        prog,
        `${name} softmax`,
        `softmax:${BH}:${T}`,
        () => K.softmaxCausal(BH, T),
        [this.p],
        BH * T,
      );
    } else {
      kernel(
        this.rt,
        prog,
        `${name} softmax`,
        `softmaxfull:${BH}:${T}:${this.o.keys ?? T}`,
        () => K.softmaxFull(BH, T, this.o.keys ?? T),
        [this.p],
        BH * T,
      );
    }
    const tp = this.#tx(prog, `p${name}`, this.p, BH * T, T);
    this.#fwdTex = { qkv: tq, p: tp };
    gemm(this.rt, prog, `${name} pv`, this.#spec(T, hd, T, "kmax", { a: pL, b: qkvL(2), c: attL }), [
      tp,
      tq,
      this.att,
    ]);
    this.o.o.forward(prog, { buffer: this.att }, Po.w, { buffer: y }, residual && { buffer: residual }, {
      bias: Po.b,
    });
  }

  /** Records the backward from dY: parameter gradients into `G`/`Go`, dX into `dx` (overwritten). */
  backward(
    prog: Program,
    dy: GPUBuffer,
    x: GPUBuffer,
    P: LinearParams,
    Po: LinearParams,
    G: LinearParams,
    Go: LinearParams,
    dx: GPUBuffer,
  ): void {
    const { T, d, name, causal } = this.o, M = this.#M, { BH, hd, qkvL, attL, pL, scale } = this.#layouts();
    const sc = this.o.scratch;
    const datt = sc.get("datt", M * d), dqkv = sc.get("dqkv", M * 3 * d), dp = sc.get("dp", BH * T * T);
    this.o.o.backward(prog, { buffer: dy }, { buffer: this.att }, Po.w, { buffer: datt }, Go.w, Go.b);
    if (this.#core) {
      this.#core.backward(prog, this.qkv, this.p, this.att, datt, dp, dqkv);
      this.#ropeBackAndQkv(prog, dqkv, x, P, G, dx);
      return;
    }
    const { qkv: bq, p: bp } = this.#fwdTex!;
    const bo = this.#tx(prog, "datt", datt, M, d);
    gemm(
      this.rt,
      prog,
      `${name} dP`,
      this.#spec(T, T, hd, "skip", { transB: true, a: attL, b: qkvL(2), c: pL }),
      [
        bo,
        bq,
        dp,
      ],
    );
    gemm(
      this.rt,
      prog,
      `${name} dV`,
      this.#spec(T, hd, T, "kmin", { transA: true, a: pL, b: attL, c: qkvL(2) }),
      [
        bp,
        bo,
        dqkv,
      ],
    );
    if (causal) {
      kernel(this.rt, prog, `${name} softmax bwd`, `softmaxbwd:${BH}:${T}`, () => K.softmaxBwd(BH, T), [
        this.p,
        dp,
      ], BH * T);
    } else {
      kernel(
        this.rt,
        prog,
        `${name} softmax bwd`,
        `softmaxfullbwd:${BH}:${T}`,
        () => K.softmaxFullBwd(BH, T),
        [
          this.p,
          dp,
        ],
        BH * T,
      );
    }
    const bs = this.#tx(prog, "ds", dp, BH * T, T);
    const dq = this.#spec(T, hd, T, "kmax", { a: pL, b: qkvL(1), c: qkvL(0), alpha: scale });
    gemm(this.rt, prog, `${name} dQ`, dq, [bs, bq, dqkv]);
    const dk = this.#spec(T, hd, T, "kmin", { transA: true, a: pL, b: qkvL(0), c: qkvL(1), alpha: scale });
    gemm(this.rt, prog, `${name} dK`, dk, [bs, bq, dqkv]);
    this.#ropeBackAndQkv(prog, dqkv, x, P, G, dx);
  }

  /** Rotary backward on dq, dk (when rope is on) and the qkv projection's backward. */
  #ropeBackAndQkv(
    prog: Program,
    dqkv: GPUBuffer,
    x: GPUBuffer,
    P: LinearParams,
    G: LinearParams,
    dx: GPUBuffer,
  ) {
    const { T, d, name } = this.o, M = this.#M, { hd } = this.#layouts();
    if (this.o.rope) {
      kernel(
        this.rt,
        prog,
        `${name} rope bwd`,
        `rope:${M}:${T}:${d}:${hd}:1`,
        () => K.rope(M, T, d, hd, true),
        [
          dqkv,
          this.o.rope,
        ],
        (M * d) / 4,
      );
    }
    this.o.qkv.backward(prog, { buffer: dqkv }, { buffer: x }, P.w, { buffer: dx }, G.w, G.b);
  }
}
