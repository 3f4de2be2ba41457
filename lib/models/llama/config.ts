/**
 * The Llama model's configuration: defaults, validation, and its flat parameter layout (tensor names as in
 * Hugging Face `LlamaForCausalLM`, q/k/v and gate/up fused), from which the exact parameter counts come.
 * Shared by the GPU model, the TypeScript reference and the checkpoint mapping.
 * @module
 */
import type { ModelConfig } from "../../engine/api.ts";
import { countParams, initLayout, layoutBuilder, type ParamLayout } from "../layout.ts";

export type { ParamLayout, ParamTensor } from "../layout.ts";

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

/**
 * Exact parameter counts, from the parameter layout. `nonEmbedding`: all block parameters plus the final norm
 * (Quartet's N): everything but the token embedding and lm_head.
 */
export function paramCounts(c: ModelConfig): { nonEmbedding: number; total: number } {
  return countParams(paramLayout(c), ["model.embed_tokens.weight", "lm_head.weight"]);
}

/** Builds the flat parameter layout of a config. */
export function paramLayout(c: ModelConfig): ParamLayout {
  const d = c.dModel, f = c.ffn, L = c.layers;
  const { add, decayEnd, done } = layoutBuilder();
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
  decayEnd();
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
  return done();
}

/** Initial flat parameters for a seed (N(0, 0.02), residual projections 0.02/sqrt(2L), norms 1). */
export function initParams(c: ModelConfig, seed: number): Float32Array {
  return initLayout(paramLayout(c), seed);
}
