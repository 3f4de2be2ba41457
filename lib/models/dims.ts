/**
 * The common dimensions of any model family, for tables, run ids and sweeps: a DiT's depth, width, heads,
 * MLP hidden size and patches per image play the Llama's layers, d_model, heads, ffn and context.
 * @module
 */
import type { AnyModelConfig } from "../engine/api.ts";
import { ditTokens } from "./dit/config.ts";

/** Family-independent dimensions of a model config. */
export interface ModelDims {
  /** "llama" or "dit". */
  family: "llama" | "dit";
  /** Blocks (Llama layers, DiT depth). */
  layers: number;
  /** Residual width (d_model, DiT hidden_size). */
  dModel: number;
  /** Attention heads. */
  heads: number;
  /** MLP hidden size (SwiGLU ffn; DiT mlp_ratio · hidden). */
  ffn: number;
  /** Tokens per sequence (Llama context; DiT patches per image). */
  context: number;
}

/** The dimensions of a config. */
export function modelDims(m: AnyModelConfig): ModelDims {
  if (m.family === "dit") {
    return {
      family: "dit",
      layers: m.depth,
      dModel: m.hidden,
      heads: m.heads,
      ffn: m.mlpRatio * m.hidden,
      context: ditTokens(m),
    };
  }
  return {
    family: "llama",
    layers: m.layers,
    dModel: m.dModel,
    heads: m.heads,
    ffn: m.ffn,
    context: m.context,
  };
}
