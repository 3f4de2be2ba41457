/**
 * Model configuration helpers: defaults, validation, exact parameter counts and the flat parameter
 * layout shared by the GPU model, the TypeScript reference and the checkpoint code.
 * @module
 */
import type { ModelConfig } from "./api.ts";

/** Default SwiGLU hidden size: 8·d/3 rounded up to a multiple of 32. */
export function defaultFfn(dModel: number): number {
  return Math.ceil((8 * dModel) / 3 / 32) * 32;
}

/** Fills defaults (ffn, vocab 256, eps 1e-5, theta 10000) and validates; throws one clear line. */
export function resolveModelConfig(
  p: Partial<ModelConfig> & Pick<ModelConfig, "layers" | "dModel" | "heads" | "context">,
): ModelConfig {
  const cfg: ModelConfig = {
    layers: p.layers,
    dModel: p.dModel,
    heads: p.heads,
    ffn: p.ffn ?? defaultFfn(p.dModel),
    context: p.context,
    vocab: p.vocab ?? 256,
    rmsEps: p.rmsEps ?? 1e-5,
    ropeTheta: p.ropeTheta ?? 10000,
  };
  validateModelConfig(cfg);
  return cfg;
}

/** Throws one line when a dimension is not supported. */
export function validateModelConfig(c: ModelConfig): void {
  const int = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`model: ${name} must be a positive integer (got ${v})`);
    }
  };
  int("layers", c.layers);
  int("d-model", c.dModel);
  int("heads", c.heads);
  int("ffn", c.ffn);
  int("context", c.context);
  int("vocab", c.vocab);
  for (
    const [name, v] of [["d-model", c.dModel], ["ffn", c.ffn], ["context", c.context], ["vocab", c.vocab]]
  ) {
    if ((v as number) % 32) throw new Error(`model: ${name} must be a multiple of 32 (got ${v})`);
  }
  if (c.dModel % c.heads) throw new Error(`model: d-model ${c.dModel} is not divisible by heads ${c.heads}`);
  const hd = c.dModel / c.heads;
  if (hd % 8) throw new Error(`model: head size d-model/heads = ${hd} must be a multiple of 8`);
  if (c.vocab !== 256) throw new Error(`model: vocab must be 256 (byte tokens), got ${c.vocab}`);
  if (!(c.rmsEps > 0)) throw new Error(`model: rms eps must be positive`);
  if (!(c.ropeTheta > 0)) throw new Error(`model: rope theta must be positive`);
}

/** Exact parameter counts. `nonEmbedding`: all block parameters plus the final norm (Quartet's N). */
export function paramCounts(c: ModelConfig): { nonEmbedding: number; total: number } {
  const d = c.dModel, f = c.ffn;
  const block = 4 * d * d + 3 * d * f + 2 * d;
  const nonEmbedding = c.layers * block + d;
  return { nonEmbedding, total: nonEmbedding + 2 * c.vocab * d };
}

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
  /** Init: "normal" with `std`, or "ones". */
  init: { kind: "normal"; std: number } | { kind: "ones" };
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

/** Builds the flat parameter layout of a config. */
export function paramLayout(c: ModelConfig): ParamLayout {
  const d = c.dModel, f = c.ffn, L = c.layers;
  const tensors: ParamTensor[] = [];
  let off = 0;
  const add = (t: Omit<ParamTensor, "offset" | "size">) => {
    const size = t.shape[0] * t.shape[1];
    tensors.push({ ...t, offset: off, size });
    off += Math.ceil(size / ALIGN) * ALIGN;
  };
  const std = 0.02, resid = 0.02 / Math.sqrt(2 * L);
  for (let i = 0; i < L; i++) {
    const p = `model.layers.${i}`;
    add({
      name: `${p}.qkv`,
      shape: [3 * d, d],
      decay: true,
      init: { kind: "normal", std },
      hf: [[`${p}.self_attn.q_proj.weight`, d], [`${p}.self_attn.k_proj.weight`, d], [
        `${p}.self_attn.v_proj.weight`,
        d,
      ]],
    });
    add({
      name: `${p}.o`,
      shape: [d, d],
      decay: true,
      init: { kind: "normal", std: resid },
      hf: [[`${p}.self_attn.o_proj.weight`, d]],
    });
    add({
      name: `${p}.gate_up`,
      shape: [2 * f, d],
      decay: true,
      init: { kind: "normal", std },
      hf: [[`${p}.mlp.gate_proj.weight`, f], [`${p}.mlp.up_proj.weight`, f]],
    });
    add({
      name: `${p}.down`,
      shape: [d, f],
      decay: true,
      init: { kind: "normal", std: resid },
      hf: [[`${p}.mlp.down_proj.weight`, d]],
    });
  }
  const decayFloats = off;
  add({
    name: "model.embed_tokens.weight",
    shape: [c.vocab, d],
    decay: false,
    init: { kind: "normal", std },
    hf: [["model.embed_tokens.weight", c.vocab]],
  });
  for (let i = 0; i < L; i++) {
    const p = `model.layers.${i}`;
    for (const n of ["input_layernorm", "post_attention_layernorm"]) {
      add({
        name: `${p}.${n}.weight`,
        shape: [1, d],
        decay: false,
        init: { kind: "ones" },
        hf: [[`${p}.${n}.weight`, 1]],
      });
    }
  }
  add({
    name: "model.norm.weight",
    shape: [1, d],
    decay: false,
    init: { kind: "ones" },
    hf: [["model.norm.weight", 1]],
  });
  add({
    name: "lm_head.weight",
    shape: [c.vocab, d],
    decay: false,
    init: { kind: "normal", std },
    hf: [["lm_head.weight", c.vocab]],
  });
  return { tensors, totalFloats: off, decayFloats, byName: new Map(tensors.map((t) => [t.name, t])) };
}

/** Deterministic 32-bit PRNG (sfc32 seeded through splitmix32) with Gaussian draws. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  /** Seeds from any number of integers. */
  constructor(...seeds: number[]) {
    let h = 0x9e3779b9;
    const sm = () => {
      h = (h + 0x9e3779b9) | 0;
      let z = h;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    for (const s of seeds) {
      h = (h ^ Math.imul(((s >>> 0) + 0x7f4a7c15) | 0, 0x2c1b3c6d)) | 0;
      sm();
    }
    this.#a = sm();
    this.#b = sm();
    this.#c = sm();
    this.#d = sm();
    for (let i = 0; i < 12; i++) this.u32();
  }
  /** Uniform u32. */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }
  /** Uniform in [0, 1). */
  float(): number {
    return (this.u32() + (this.u32() >>> 11) / 2097152) / 4294967296;
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
}

/** Initial flat parameters for a seed (N(0, 0.02), residual projections 0.02/sqrt(2L), norms 1). */
export function initParams(c: ModelConfig, seed: number): Float32Array {
  const layout = paramLayout(c);
  const out = new Float32Array(layout.totalFloats);
  for (const t of layout.tensors) {
    if (t.init.kind === "ones") out.fill(1, t.offset, t.offset + t.size);
    else {
      const rng = new Rng(seed, 0x1417, hashName(t.name));
      for (let i = 0; i < t.size; i++) out[t.offset + i] = rng.normal() * t.init.std;
    }
  }
  return out;
}

/** FNV-1a of a string. */
export function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
