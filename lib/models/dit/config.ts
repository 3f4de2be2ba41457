/**
 * The DiT's shape (`DitConfig`) and its parameter layout in the original DiT code's tensor names
 * (facebookresearch/DiT `models.py`), with the DiT initialisation and the parameter-count rule.
 *
 * Public API:
 * - {@link DitConfig}, {@link resolveDitConfig} (defaults + validation, one-line errors),
 *   {@link ditTokens} (T = (inputSize/patch)²), {@link ditPatchDim} (C·p·p), {@link ditDataTokens} (the
 *   scaling-law D: training images × patches per image).
 * - {@link ditLayout}: every tensor with its DiT name, PyTorch shape, offset in one flat Float32Array
 *   (64-float aligned, GEMM weights first), init rule, whether it is trained and whether it is the weight
 *   of a linear (a GEMM operand to which FP4/BF16 training recipes apply).
 * - {@link initDitParams}: the flat initial parameters for a seed (DiT's `initialize_weights`).
 * - {@link ditParamCounts}: `nonEmbedding` (the scaling-law N) and totals.
 * - {@link posEmbed2d}: the fixed 2-D sin-cos position embedding exactly as `get_2d_sincos_pos_embed`.
 *
 * Tensor shapes follow PyTorch: a linear weight is [out, in]; `x_embedder.proj.weight` is the conv
 * weight [hidden, C, p, p] (equivalently a linear [hidden, C·p·p] over patches flattened in (c, i, j)
 * order); `pos_embed` is [1, T, hidden]; the final linear's outputs are ordered (i, j, c) within a patch
 * (DiT's `unpatchify`: "nhwpqc→nchpwq").
 *
 * Parameter-count rule (N of a scaling law): `nonEmbedding` = every parameter of the `depth` DiT blocks
 * plus `final_layer.adaLN_modulation` (the final norm's modulation, the analogue of Llama's final
 * RMSNorm which the Llama N includes). Excluded, as the embeddings and output head of a language model
 * are: `x_embedder` (patch embedding), `pos_embed` (fixed, not trained), `t_embedder` (timestep MLP),
 * `y_embedder` (class table) and `final_layer.linear` (output head). `trainable` counts every trained
 * tensor (all but pos_embed); `stored` counts every tensor in the checkpoint.
 * Per block (mlpRatio 4): 18·h² + 15·h (qkv 3h²+3h, proj h²+h, fc1 4h²+4h, fc2 4h²+h, adaLN 6h²+6h);
 * so N = depth·(18h² + 15h) + 2h² + 2h.
 * @module
 */
import { hashName, Rng } from "../../engine/rng.ts";

/** Shape of a class-conditional DiT (Peebles & Xie 2023) on square images. */
export interface DitConfig {
  /** Model family tag. */
  family: "dit";
  /** Image side in pixels (28 for MNIST). */
  inputSize: number;
  /** Patch side p; must divide inputSize. */
  patch: number;
  /** Image channels C (1 for MNIST). */
  inChannels: number;
  /** Residual width ("hidden_size"); a multiple of 4 (2-D sin-cos embedding) and of heads. */
  hidden: number;
  /** Number of DiT blocks. */
  depth: number;
  /** Attention heads. */
  heads: number;
  /** MLP hidden size = mlpRatio · hidden (4). */
  mlpRatio: number;
  /** Number of classes (10); the class table has one more row, the "null" class of classifier-free guidance. */
  numClasses: number;
  /** DiT's learn_sigma; only false (predict ε with fixed variance) is supported. */
  learnSigma: false;
}

/** Fills defaults (inputSize 28, inChannels 1, mlpRatio 4, numClasses 10) and validates; throws one line. */
export function resolveDitConfig(
  p: Partial<DitConfig> & Pick<DitConfig, "hidden" | "depth" | "heads" | "patch">,
): DitConfig {
  const c: DitConfig = {
    family: "dit",
    inputSize: p.inputSize ?? 28,
    patch: p.patch,
    inChannels: p.inChannels ?? 1,
    hidden: p.hidden,
    depth: p.depth,
    heads: p.heads,
    mlpRatio: p.mlpRatio ?? 4,
    numClasses: p.numClasses ?? 10,
    learnSigma: false,
  };
  validateDitConfig(c);
  return c;
}

/** Throws one line (`model: …`) when a dimension is not supported. */
export function validateDitConfig(c: DitConfig): void {
  const int = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`model: ${name} must be a positive integer (got ${v})`);
    }
  };
  if (c.family !== "dit") throw new Error(`model: family must be "dit" (got ${c.family})`);
  int("input size", c.inputSize);
  int("patch", c.patch);
  int("in channels", c.inChannels);
  int("width", c.hidden);
  int("depth", c.depth);
  int("heads", c.heads);
  int("mlp ratio", c.mlpRatio);
  int("classes", c.numClasses);
  if (c.inputSize % c.patch) {
    throw new Error(`model: patch ${c.patch} does not divide the image side ${c.inputSize}`);
  }
  if (c.hidden % 4) throw new Error(`model: width must be a multiple of 4 (got ${c.hidden})`);
  if (c.hidden % c.heads) throw new Error(`model: width ${c.hidden} is not divisible by heads ${c.heads}`);
  if (c.learnSigma !== false) throw new Error("model: learn_sigma is not supported (ε only, fixed variance)");
}

/** Tokens per image T = (inputSize / patch)². */
export function ditTokens(c: DitConfig): number {
  const g = c.inputSize / c.patch;
  return g * g;
}

/**
 * Data count D of a scaling law for a DiT: training images seen × patches (tokens) per image, so that a
 * DiT's D is in tokens like a language model's.
 */
export function ditDataTokens(c: DitConfig, images: number): number {
  return images * ditTokens(c);
}

/** Values per patch C·p·p (input of the patch embedding, output of the final linear). */
export function ditPatchDim(c: DitConfig): number {
  return c.inChannels * c.patch * c.patch;
}

/** Width of the sinusoidal timestep embedding fed to the t-MLP (DiT's frequency_embedding_size). */
export const FREQ_DIM = 256;

/** Init rule of one tensor (DiT's `initialize_weights`). */
export type DitInit =
  | { kind: "xavier"; fanIn: number; fanOut: number }
  | { kind: "normal"; std: number }
  | { kind: "zeros" }
  | { kind: "sincos" };

/** One tensor of the flat DiT parameter buffer. */
export interface DitTensor {
  /** Name in the original DiT code's state_dict. */
  name: string;
  /** PyTorch shape. */
  shape: number[];
  /** Offset in floats (multiple of 64). */
  offset: number;
  /** Element count. */
  size: number;
  /** Init rule. */
  init: DitInit;
  /** Updated by the optimizer (false only for the fixed pos_embed). */
  trainable: boolean;
  /** Weight of a linear layer (GEMM operand, recipes apply; x_embedder.proj.weight counts: it is a linear over patches). */
  linear: boolean;
  /** Counted in the non-embedding N (see module doc). */
  nonEmbedding: boolean;
}

/** The flat layout: GEMM weights first (a contiguous prefix of `linearFloats`), then the rest. */
export interface DitLayout {
  /** Tensors in buffer order. */
  tensors: DitTensor[];
  /** Floats of the flat buffer (with padding). */
  totalFloats: number;
  /** Floats of the prefix holding all linear weights. */
  linearFloats: number;
  /** Lookup by name. */
  byName: Map<string, DitTensor>;
}

const ALIGN = 64;

/** The parameter layout of a config (names, shapes, offsets, init). */
export function ditLayout(c: DitConfig): DitLayout {
  const h = c.hidden, P = ditPatchDim(c), T = ditTokens(c), f = c.mlpRatio * h;
  type Spec = Omit<DitTensor, "offset" | "size">;
  const weights: Spec[] = [], others: Spec[] = [];
  const lin = (name: string, out: number, inp: number, nonEmbedding: boolean, zero = false, std?: number) => {
    weights.push({
      name: `${name}.weight`,
      shape: [out, inp],
      init: zero
        ? { kind: "zeros" }
        : std
        ? { kind: "normal", std }
        : { kind: "xavier", fanIn: inp, fanOut: out },
      trainable: true,
      linear: true,
      nonEmbedding,
    });
    others.push({
      name: `${name}.bias`,
      shape: [out],
      init: { kind: "zeros" },
      trainable: true,
      linear: false,
      nonEmbedding,
    });
  };
  weights.push({
    name: "x_embedder.proj.weight",
    shape: [h, c.inChannels, c.patch, c.patch],
    init: { kind: "xavier", fanIn: P, fanOut: h },
    trainable: true,
    linear: true,
    nonEmbedding: false,
  });
  others.push({
    name: "x_embedder.proj.bias",
    shape: [h],
    init: { kind: "zeros" },
    trainable: true,
    linear: false,
    nonEmbedding: false,
  });
  others.push({
    name: "pos_embed",
    shape: [1, T, h],
    init: { kind: "sincos" },
    trainable: false,
    linear: false,
    nonEmbedding: false,
  });
  lin("t_embedder.mlp.0", h, FREQ_DIM, false, false, 0.02);
  lin("t_embedder.mlp.2", h, h, false, false, 0.02);
  others.push({
    name: "y_embedder.embedding_table.weight",
    shape: [c.numClasses + 1, h],
    init: { kind: "normal", std: 0.02 },
    trainable: true,
    linear: false,
    nonEmbedding: false,
  });
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}`;
    lin(`${b}.attn.qkv`, 3 * h, h, true);
    lin(`${b}.attn.proj`, h, h, true);
    lin(`${b}.mlp.fc1`, f, h, true);
    lin(`${b}.mlp.fc2`, h, f, true);
    lin(`${b}.adaLN_modulation.1`, 6 * h, h, true, true);
  }
  lin("final_layer.adaLN_modulation.1", 2 * h, h, true, true);
  lin("final_layer.linear", P, h, false, true);
  const tensors: DitTensor[] = [];
  let off = 0;
  let linearFloats = 0;
  for (const [k, s] of [...weights, ...others].entries()) {
    if (k === weights.length) linearFloats = off;
    const size = s.shape.reduce((a, b) => a * b, 1);
    tensors.push({ ...s, offset: off, size });
    off += Math.ceil(size / ALIGN) * ALIGN;
  }
  return { tensors, totalFloats: off, linearFloats, byName: new Map(tensors.map((t) => [t.name, t])) };
}

/** Exact parameter counts (see the module doc for the rule). */
export function ditParamCounts(c: DitConfig): { nonEmbedding: number; trainable: number; stored: number } {
  let nonEmbedding = 0, trainable = 0, stored = 0;
  for (const t of ditLayout(c).tensors) {
    stored += t.size;
    if (t.trainable) trainable += t.size;
    if (t.nonEmbedding) nonEmbedding += t.size;
  }
  return { nonEmbedding, trainable, stored };
}

/**
 * The fixed 2-D sin-cos position embedding [T·hidden] (row-major [T, hidden]) of DiT's
 * `get_2d_sincos_pos_embed(hidden, grid)`: token k = r·G + c; the first half of the channels encodes the
 * column c, the second half the row r; each half is [sin(pos·ω_d), cos(pos·ω_d)] with
 * ω_d = 10000^(−d/(hidden/4)), d < hidden/4. Computed in float64 (as NumPy does), stored as float32.
 */
export function posEmbed2d(hidden: number, grid: number): Float64Array {
  const out = new Float64Array(grid * grid * hidden);
  const q = hidden / 4;
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const o = (r * grid + c) * hidden;
      for (let d = 0; d < q; d++) {
        const w = 1 / Math.pow(10000, d / q);
        out[o + d] = Math.sin(c * w);
        out[o + q + d] = Math.cos(c * w);
        out[o + 2 * q + d] = Math.sin(r * w);
        out[o + 3 * q + d] = Math.cos(r * w);
      }
    }
  }
  return out;
}

/**
 * Initial flat parameters (DiT `initialize_weights`): xavier-uniform linears (the patch embedding over
 * its [hidden, C·p·p] view) with zero biases, N(0, 0.02) class table and t-MLP weights, zero adaLN
 * modulations and final linear, fixed sin-cos pos_embed. Each tensor draws from its own stream
 * (seed, name), so the layout order does not change the values.
 */
export function initDitParams(c: DitConfig, seed: number): Float32Array {
  const layout = ditLayout(c);
  const out = new Float32Array(layout.totalFloats);
  for (const t of layout.tensors) {
    const rng = new Rng(seed, 0xd17, hashName(t.name));
    const v = out.subarray(t.offset, t.offset + t.size);
    if (t.init.kind === "xavier") {
      const a = Math.sqrt(6 / (t.init.fanIn + t.init.fanOut));
      for (let i = 0; i < v.length; i++) v[i] = (2 * rng.float() - 1) * a;
    } else if (t.init.kind === "normal") {
      for (let i = 0; i < v.length; i++) v[i] = rng.normal() * t.init.std;
    } else if (t.init.kind === "sincos") v.set(posEmbed2d(c.hidden, c.inputSize / c.patch));
  }
  return out;
}

/** A view of one named tensor of a flat parameter buffer. */
export function tensorView<A extends Float32Array | Float64Array>(
  layout: DitLayout,
  flat: A,
  name: string,
): A {
  const t = layout.byName.get(name);
  if (!t) throw new Error(`dit: no tensor named ${name}`);
  return flat.subarray(t.offset, t.offset + t.size) as A;
}
