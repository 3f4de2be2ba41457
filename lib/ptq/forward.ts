/**
 * A CPU (float64) forward pass of the Llama model with a hook on the input of every linear layer: the
 * calibration capture reads the inputs there, and the quantized model puts its activation quantizers there.
 * It composes the float64 reference ops of lib/models/llama/reference.ts (RMSNorm, RoPE, causal softmax,
 * SwiGLU, cross-entropy), so without hooks it computes the model the GPU engine trains.
 * @module
 */
import type { ModelConfig } from "../engine/api.ts";
import type { Batch } from "../data/batches.ts";
import { paramLayout } from "../models/llama/config.ts";
import { crossEntropy, rmsFwd, rope, softmaxCausal, swigluFwd } from "../models/llama/reference.ts";

/** One linear layer of the model: its flat tensor name (also its PTQ name) and shape. */
export interface LinearInfo {
  /** Flat parameter name: `model.layers.{l}.qkv|o|gate_up|down` or `lm_head.weight` (a DiT: its weight names). */
  name: string;
  /** Module kind (fc1 / gate_up: the first MLP linear; the DiT's adaLN, embedder and final linears). */
  kind: "qkv" | "o" | "gate_up" | "down" | "lm_head" | "fc1" | "adaln" | "x_embed" | "t_embed" | "final";
  /** In-features. */
  inF: number;
  /** Out-features. */
  outF: number;
}

/** Every linear layer in forward order. */
export function linearLayers(c: ModelConfig): LinearInfo[] {
  const d = c.dModel, f = c.ffn, out: LinearInfo[] = [];
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}`;
    out.push({ name: `${p}.qkv`, kind: "qkv", inF: d, outF: 3 * d });
    out.push({ name: `${p}.o`, kind: "o", inF: d, outF: d });
    out.push({ name: `${p}.gate_up`, kind: "gate_up", inF: d, outF: 2 * f });
    out.push({ name: `${p}.down`, kind: "down", inF: f, outF: d });
  }
  out.push({ name: "lm_head.weight", kind: "lm_head", inF: d, outF: c.vocab });
  return out;
}

/** Hook on a linear layer's input X [M, inF]: returns the operand the product reads (X itself, or a copy). */
export type InputHook = (name: string, X: Float64Array, M: number, inF: number) => Float64Array;

/** Y[M, outF] = X[M, inF] · W[outF, inF]ᵀ in float64. */
export function linear(
  X: ArrayLike<number>,
  W: ArrayLike<number>,
  M: number,
  inF: number,
  outF: number,
): Float64Array {
  const Y = new Float64Array(M * outF);
  for (let m = 0; m < M; m++) {
    const xo = m * inF, yo = m * outF;
    for (let n = 0; n < outF; n++) {
      const wo = n * inF;
      let s = 0;
      for (let k = 0; k < inF; k++) s += X[xo + k] * W[wo + k];
      Y[yo + n] = s;
    }
  }
  return Y;
}

/** Sum of token losses and the number of scored tokens of one batch. */
export function batchLoss(
  c: ModelConfig,
  flat: Float32Array,
  batch: Batch,
  hook?: InputHook,
): { sum: number; count: number } {
  const lay = paramLayout(c);
  const P = (name: string) => {
    const t = lay.byName.get(name)!;
    return flat.subarray(t.offset, t.offset + t.size);
  };
  const T = c.context, D = c.dModel, F = c.ffn, V = c.vocab, H = c.heads, hd = D / H;
  const B = batch.inputs.length / T, M = B * T, alpha = 1 / Math.sqrt(hd);
  const lin = (name: string, X: Float64Array, inF: number, outF: number) =>
    linear(hook ? hook(name, X, M, inF) : X, P(name), M, inF, outF);
  const E = P("model.embed_tokens.weight");
  let x: Float64Array = new Float64Array(M * D);
  for (let m = 0; m < M; m++) for (let j = 0; j < D; j++) x[m * D + j] = E[batch.inputs[m] * D + j];
  for (let l = 0; l < c.layers; l++) {
    const pre = `model.layers.${l}`;
    const h1 = rmsFwd(x, P(`${pre}.input_layernorm.weight`), M, D, c.rmsEps).Y;
    const qkv = rope(lin(`${pre}.qkv`, h1, D, 3 * D), M, T, D, hd, c.ropeTheta, false);
    const att = new Float64Array(M * D);
    const q = new Float64Array(T * hd), k = new Float64Array(T * hd), v = new Float64Array(T * hd);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < T; t++) {
          const o = (b * T + t) * 3 * D + h * hd;
          for (let e = 0; e < hd; e++) {
            q[t * hd + e] = qkv[o + e];
            k[t * hd + e] = qkv[o + D + e];
            v[t * hd + e] = qkv[o + 2 * D + e];
          }
        }
        const S = linear(q, k, T, hd, T);
        for (let i = 0; i < S.length; i++) S[i] *= alpha;
        const Pm = softmaxCausal(S, 1, T);
        for (let t = 0; t < T; t++) {
          const ao = (b * T + t) * D + h * hd;
          for (let j = 0; j <= t; j++) {
            const p = Pm[t * T + j];
            for (let e = 0; e < hd; e++) att[ao + e] += p * v[j * hd + e];
          }
        }
      }
    }
    const ao = lin(`${pre}.o`, att, D, D);
    for (let i = 0; i < ao.length; i++) ao[i] += x[i];
    x = ao;
    const h2 = rmsFwd(x, P(`${pre}.post_attention_layernorm.weight`), M, D, c.rmsEps).Y;
    const a = swigluFwd(lin(`${pre}.gate_up`, h2, D, 2 * F), M, F);
    const dn = lin(`${pre}.down`, a, F, D);
    for (let i = 0; i < dn.length; i++) dn[i] += x[i];
    x = dn;
  }
  const hf = rmsFwd(x, P("model.norm.weight"), M, D, c.rmsEps).Y;
  const logits = lin("lm_head.weight", hf, D, V);
  const { loss } = crossEntropy(logits, batch.targets, M, V, 1);
  let sum = 0, count = 0;
  for (let m = 0; m < M; m++) {
    if (batch.targets[m] >= 0) {
      sum += loss[m];
      count++;
    }
  }
  return { sum, count };
}

/** Mean next-token loss (nats) over batches. */
export function meanLoss(c: ModelConfig, flat: Float32Array, batches: Batch[], hook?: InputHook): number {
  let s = 0, n = 0;
  for (const b of batches) {
    const r = batchLoss(c, flat, b, hook);
    s += r.sum;
    n += r.count;
  }
  if (!n) throw new Error("no tokens to score");
  return s / n;
}
