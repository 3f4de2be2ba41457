/**
 * Flat parameter layouts shared by every model family: named tensors at 256-byte-aligned offsets in one
 * buffer, decayed tensors first (AdamW then runs as two contiguous ranges), each with its init rule and the
 * checkpoint tensors it holds. Parameter counts and initial values come from the layout, once.
 * @module
 */
import { hashName, Rng } from "../engine/rng.ts";

/** One tensor of the flat parameter buffer. */
export interface ParamTensor {
  /** Internal name; fused tensors are split into Hugging Face names by `hfNames`. */
  name: string;
  /** Shape [rows, cols] (row-major; linear weights are [out, in]). */
  shape: [number, number];
  /** Offset in floats (a multiple of 64, i.e. 256 bytes). */
  offset: number;
  /** Element count. */
  size: number;
  /** AdamW weight decay applies (linear weights of the blocks). */
  decay: boolean;
  /** Init: "normal" with `std`, "uniform" in ±`bound`, "ones", "zeros", or fixed `values`. */
  init:
    | { kind: "normal"; std: number }
    | { kind: "uniform"; bound: number }
    | { kind: "ones" }
    | { kind: "zeros" }
    | { kind: "values"; values: () => Float32Array };
  /** Hugging Face tensors stored in this one: [name, rows] in row order. */
  hf: [string, number][];
}

/** Flat layout of all parameters: decayed tensors first, so AdamW runs as two contiguous ranges. */
export interface ParamLayout {
  /** Tensors in buffer order. */
  tensors: ParamTensor[];
  /** Floats in the flat buffer (with padding). */
  totalFloats: number;
  /** Floats of the decayed prefix. */
  decayFloats: number;
  /** Lookup by internal name. */
  byName: Map<string, ParamTensor>;
}

const ALIGN = 64;

/** Builds a layout tensor by tensor: `add` in buffer order, `decayEnd` after the last decayed tensor. */
export function layoutBuilder(): {
  add: (t: Omit<ParamTensor, "offset" | "size">) => void;
  decayEnd: () => void;
  done: () => ParamLayout;
} {
  const tensors: ParamTensor[] = [];
  let off = 0, decayFloats = 0;
  return {
    add: (t) => {
      const size = t.shape[0] * t.shape[1];
      tensors.push({ ...t, offset: off, size });
      off += Math.ceil(size / ALIGN) * ALIGN;
    },
    decayEnd: () => void (decayFloats = off),
    done: () => ({
      tensors,
      totalFloats: off,
      decayFloats,
      byName: new Map(tensors.map((t) => [t.name, t])),
    }),
  };
}

/** Parameter counts of a layout: `total`, and `nonEmbedding` = total minus the named embedding tensors. */
export function countParams(lay: ParamLayout, embeddings: string[]): { nonEmbedding: number; total: number } {
  let total = 0, emb = 0;
  for (const t of lay.tensors) {
    total += t.size;
    if (embeddings.includes(t.name)) emb += t.size;
  }
  return { nonEmbedding: total - emb, total };
}

/** Initial flat parameters of a layout for a seed (each tensor from its own stream: order-independent). */
export function initLayout(layout: ParamLayout, seed: number): Float32Array {
  const out = new Float32Array(layout.totalFloats);
  for (const t of layout.tensors) {
    if (t.init.kind === "ones") out.fill(1, t.offset, t.offset + t.size);
    else if (t.init.kind === "normal") {
      const rng = new Rng(seed, 0x1417, hashName(t.name));
      for (let i = 0; i < t.size; i++) out[t.offset + i] = rng.normal() * t.init.std;
    } else if (t.init.kind === "uniform") {
      const rng = new Rng(seed, 0x1417, hashName(t.name));
      for (let i = 0; i < t.size; i++) out[t.offset + i] = (2 * rng.float() - 1) * t.init.bound;
    } else if (t.init.kind === "values") out.set(t.init.values(), t.offset);
    // "zeros": the buffer is zero already
  }
  return out;
}
