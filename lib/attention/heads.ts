/**
 * The shape of an attention layer and the per-head views it computes over, shared by the exact path
 * (lib/layers/attention.ts) and the quantized core (./gpu.ts): strided layouts of q, k, v, the head outputs
 * and the probabilities, and the GEMM spec of one product batched over every (sequence, head) pair.
 * @module
 */
import type { GemmSpec } from "../../kernels/engine/gemm.ts";
import type { HeadLayout } from "../../kernels/attention/ops.ts";

/** Shape of an attention layer (and of its quantized core). */
export interface CoreShape {
  /** Label prefix. */
  name: string;
  /** Sequences. */
  batch: number;
  /** Tokens per sequence. */
  T: number;
  /** Width. */
  d: number;
  /** Heads. */
  heads: number;
  /** Causal mask (decoders) or bidirectional (DiT). */
  causal: boolean;
  /** Bidirectional only: the first `keys` tokens of each sequence are real, the rest padding (default T). */
  keys?: number;
}

/** The per-head views of one shape (see {@link headLayouts}). */
export interface HeadLayouts {
  /** (sequence, head) pairs: batch · heads. */
  Z: number;
  /** Head width d / heads. */
  hd: number;
  /** Part `part` (0 q, 1 k, 2 v) of the fused qkv activations [M, 3d], heads contiguous column blocks. */
  qkvL: (part: number) => HeadLayout;
  /** Head outputs [M, d]. */
  attL: HeadLayout;
  /** Probabilities [Z, T, T]. */
  pL: HeadLayout;
}

/** The per-head views of shape `s`. */
export function headLayouts(s: CoreShape): HeadLayouts {
  const { T, d, heads: H } = s, hd = d / H;
  return {
    Z: s.batch * H,
    hd,
    qkvL: (part: number): HeadLayout => ({ ld: 3 * d, sb: T * 3 * d, sh: hd, off: part * d }),
    attL: { ld: d, sb: T * d, sh: hd },
    pL: { ld: T, sb: H * T * T, sh: T * T },
  };
}

/**
 * GEMM spec of one attention product over all (sequence, head) pairs: M×N×K per pair, `rest` for the
 * transposes and layouts, and the causal tile treatment `mask` when the shape is causal.
 */
export function headGemm(
  s: CoreShape,
  M: number,
  N: number,
  K: number,
  mask: GemmSpec["causal"],
  rest: Partial<GemmSpec>,
): GemmSpec {
  const g = {
    M,
    N,
    K,
    batch: s.batch * s.heads,
    heads: s.heads,
    transA: false,
    transB: false,
    ...rest,
  } as GemmSpec;
  if (s.causal) g.causal = mask;
  return g;
}
