/**
 * GPU recording of a quantized attention recipe's core, between the qkv activations and the head outputs:
 * operand preparation and fake quantization (kernels/attention), the engine's GEMMs for QKᵀ, PV and the
 * backward products, the recipe's tiled softmax and SageBwd's dS. The f32 recipe never comes here: the
 * attention layer keeps its exact path (bit-identical to the engine before recipes existed).
 * @module
 */
import type { GemmSpec } from "../../kernels/engine/gemm.ts";
import {
  deltaSWgsl,
  dsWgsl,
  fakeQuantWgsl,
  type HeadDims,
  type HeadLayout,
  layoutKey,
  prepWgsl,
  softmaxQuantWgsl,
} from "../../kernels/attention/ops.ts";
import type { Binding, Program, Runtime } from "../gpu/runtime.ts";
import { gemm, kernel } from "../layers/record.ts";
import { groupShape, type OperandRole } from "./quant.ts";
import { type CoreShape, headGemm, type HeadLayouts, headLayouts } from "./heads.ts";
import type { AttentionRecipe, OperandQuant } from "./recipes.ts";

/** Scratch buffers by key (shared between layers) and the operand-to-texture copy of the layer. */
export interface CoreScratch {
  /** A shared buffer of `floats` floats. */
  get(key: string, floats: number): GPUBuffer;
  /** Copies `b` viewed as [rows, ld] into the texture `key` (or returns `b` when textures are off). */
  tx(prog: Program, key: string, b: GPUBuffer, rows: number, ld: number): Binding;
}

/**
 * Throws a one-line error when the GPU path cannot run `r`: its backward reuses the forward's Q̂ and K̂, so a
 * training recipe must quantize Q/K the same way in both and must not smooth Q. Group shapes need no check:
 * groups are clipped at the matrix edges exactly as in the TS reference.
 */
export function checkGpuRecipe(r: AttentionRecipe): void {
  if (r.backward && (r.backward.qk !== r.qk || r.smoothQ)) {
    throw new Error(`attention recipe "${r.name}": the GPU backward reuses the forward's Q̂ and K̂`);
  }
}

/** The recorded quantized core of one attention layer (owns the quantized qkv copy). */
export class QuantAttentionCore {
  /** Q̂, K̂, V̂ [M, 3d] (same layout as qkv), kept for the backward. */
  readonly qkvq: GPUBuffer;
  #tq?: Binding;
  readonly #dims: HeadDims;
  readonly #keys: number;

  /** Allocates the layer's quantized operand buffer. */
  constructor(
    readonly rt: Runtime,
    readonly r: AttentionRecipe,
    readonly s: CoreShape,
    readonly sc: CoreScratch,
  ) {
    checkGpuRecipe(r);
    this.qkvq = rt.storage(s.batch * s.T * 3 * s.d * 4, `${s.name} qkvq`);
    this.#dims = { batch: s.batch, heads: s.heads, T: s.T, hd: s.d / s.heads };
    this.#keys = s.causal ? s.T : (s.keys ?? s.T);
  }

  #L(): HeadLayouts {
    return headLayouts(this.s);
  }

  #spec(M: number, N: number, K: number, mask: GemmSpec["causal"], rest: Partial<GemmSpec>): GemmSpec {
    return headGemm(this.s, M, N, K, mask, rest);
  }

  /** Records in-place fake quantization of a per-head operand (nothing for f32). */
  #fq(
    prog: Program,
    q: OperandQuant,
    role: OperandRole,
    buf: GPUBuffer,
    rows: number,
    cols: number,
    L: HeadLayout,
  ) {
    if (q === "f32") return;
    const { Z } = this.#L();
    const key = `attfq:${q}:${role}:${Z}:${this.s.heads}:${rows}:${cols}:${this.r.tile}:${layoutKey(L)}`;
    const g = fakeQuantGroups(q, role, rows, cols, this.r.tile);
    kernel(
      this.rt,
      prog,
      `${this.s.name} quant ${role}`,
      key,
      () => fakeQuantWgsl(q, role, Z, this.s.heads, rows, cols, this.r.tile, L),
      [buf],
      Z * g,
    );
  }

  /** Records att = recipe(qkv); `p` [Z, T, T] receives the exact probabilities exp(S − lse) for the backward. */
  forward(prog: Program, qkv: GPUBuffer, p: GPUBuffer, att: GPUBuffer): void {
    const { T, d, name, causal } = this.s, r = this.r, { Z, hd, qkvL, attL, pL } = this.#L();
    const M = this.s.batch * T, nBlk = Math.ceil(T / r.qBlock), dims = this.#dims, keys = this.#keys;
    const qbar = r.smoothQ ? this.sc.get("att.qbar", Z * nBlk * hd) : undefined;
    kernel(
      this.rt,
      prog,
      `${name} att prep`,
      `attprep:${r.smoothK}:${r.smoothQ}:${r.qBlock}:${Z}:${this.s.heads}:${T}:${hd}:${keys}`,
      () => prepWgsl(r, dims, keys, qkvL(0), qkvL(1), qkvL(2)),
      qbar ? [qkv, this.qkvq, qbar] : [qkv, this.qkvq],
      Z * hd,
    );
    let dS: GPUBuffer | undefined;
    if (qbar) {
      dS = this.sc.get("att.deltaS", Z * nBlk * T);
      kernel(
        this.rt,
        prog,
        `${name} att ΔS`,
        `attds:${r.qBlock}:${Z}:${this.s.heads}:${T}:${hd}`,
        () => deltaSWgsl(r, dims, qkvL(1)),
        [qbar, this.qkvq, dS],
        Z * nBlk * T,
      );
    }
    this.#fq(prog, r.qk, "qk", this.qkvq, T, hd, qkvL(0));
    this.#fq(prog, r.qk, "qk", this.qkvq, T, hd, qkvL(1));
    this.#fq(prog, r.v, "v", this.qkvq, T, hd, qkvL(2));
    const tq = (this.#tq = this.sc.tx(prog, `qkvq${name}`, this.qkvq, M, 3 * d));
    gemm(
      this.rt,
      prog,
      `${name} qk`,
      this.#spec(T, T, hd, "skip", { transB: true, a: qkvL(0), b: qkvL(1), c: pL }),
      [
        tq,
        tq,
        p,
      ],
    );
    const pe = this.sc.get("att.peff", Z * T * T);
    kernel(
      this.rt,
      prog,
      `${name} softmax ${r.name}`,
      `attsm:${r.name}:${r.p}:${r.pScale}:${r.tile}:${r.smoothQ}:${Z}:${this.s.heads}:${T}:${hd}:${causal}:${keys}`,
      () => softmaxQuantWgsl(r, dims, causal, keys),
      dS ? [p, pe, dS] : [p, pe],
      Z * T,
    );
    const tp = this.sc.tx(prog, "peff", pe, Z * T, T);
    gemm(this.rt, prog, `${name} pv`, this.#spec(T, hd, T, "kmax", { a: pL, b: qkvL(2), c: attL }), [
      tp,
      tq,
      att,
    ]);
  }

  /**
   * Records the backward of the core: from dO (`datt`), the forward's `qkv`, `p` and `att`, writes dQ, dK, dV
   * into `dqkv` ([M, 3d]); `dp` [Z, T, T] is scratch.
   */
  backward(
    prog: Program,
    qkv: GPUBuffer,
    p: GPUBuffer,
    att: GPUBuffer,
    datt: GPUBuffer,
    dp: GPUBuffer,
    dqkv: GPUBuffer,
  ): void {
    const b = this.r.backward;
    if (!b) throw new Error(`attention recipe "${this.r.name}" is inference-only`);
    const { T, d, name, causal } = this.s, { Z, hd, qkvL, attL, pL } = this.#L();
    const M = this.s.batch * T, scale = 1 / Math.sqrt(hd), sc = this.sc;
    const copy = (src: GPUBuffer, dst: GPUBuffer, floats: number) =>
      prog.copy({ src, srcOffset: 0, dst, dstOffset: 0, size: floats * 4 });
    // dO for dV and for dP, V for dP
    const doa = sc.get("att.doa", M * d), dob = sc.get("att.dob", M * d), v16 = sc.get("att.v16", M * 3 * d);
    copy(datt, doa, M * d);
    copy(datt, dob, M * d);
    copy(qkv, v16, M * 3 * d);
    this.#fq(prog, b.dO, "tok", doa, T, hd, attL);
    this.#fq(prog, b.dP, "tok", dob, T, hd, attL);
    this.#fq(prog, b.dP, "tok", v16, T, hd, qkvL(2));
    const tdob = sc.tx(prog, "dob", dob, M, d), tv16 = sc.tx(prog, "v16", v16, M, 3 * d);
    gemm(
      this.rt,
      prog,
      `${name} dP`,
      this.#spec(T, T, hd, "skip", { transB: true, a: attL, b: qkvL(2), c: pL }),
      [
        tdob,
        tv16,
        dp,
      ],
    );
    // dV = P̂ᵀ·dÔ with P recomputed (exact P from the forward) and quantized
    const pb = sc.get("att.pb", Z * T * T);
    copy(p, pb, Z * T * T);
    this.#fq(prog, b.p, "p", pb, T, T, pL);
    const tpb = sc.tx(prog, "pb", pb, Z * T, T), tdoa = sc.tx(prog, "doa", doa, M, d);
    gemm(
      this.rt,
      prog,
      `${name} dV`,
      this.#spec(T, hd, T, "kmin", { transA: true, a: pL, b: attL, c: qkvL(2) }),
      [tpb, tdoa, dqkv],
    );
    kernel(
      this.rt,
      prog,
      `${name} att dS`,
      `attdsbwd:${Z}:${this.s.heads}:${T}:${hd}:${causal}:${this.#keys}`,
      () => dsWgsl(this.#dims, causal, this.#keys, attL),
      [p, dp, datt, att],
      Z * T,
    );
    this.#fq(prog, b.dS, "ss", dp, T, T, pL);
    const ts = sc.tx(prog, "ds", dp, Z * T, T), tq = this.#tq!;
    const dq = this.#spec(T, hd, T, "kmax", { a: pL, b: qkvL(1), c: qkvL(0), alpha: scale });
    gemm(this.rt, prog, `${name} dQ`, dq, [ts, tq, dqkv]);
    const dk = this.#spec(T, hd, T, "kmin", { transA: true, a: pL, b: qkvL(0), c: qkvL(1), alpha: scale });
    gemm(this.rt, prog, `${name} dK`, dk, [ts, tq, dqkv]);
  }
}

/** Number of groups of a fake-quantization dispatch per (sequence, head). */
function fakeQuantGroups(
  q: OperandQuant,
  role: OperandRole,
  rows: number,
  cols: number,
  tile: number,
): number {
  const g = groupShape(q, role, cols, tile);
  return Math.ceil(rows / g.rows) * Math.ceil(cols / g.cols);
}
