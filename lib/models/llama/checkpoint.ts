/**
 * The Llama checkpoint mapping: Hugging Face `config.json` and tensor names from/to the flat parameter
 * layout (q/k/v and gate/up split from their fused tensors).
 * @module
 */
import type { ModelConfig } from "../../engine/api.ts";
import type { NamedTensor } from "../../engine/checkpoint.ts";
import { paramLayout, validateModelConfig } from "./config.ts";

/** Hugging Face `config.json` of a model (plus an `fp4lab` section with the run's settings). */
export function hfConfig(c: ModelConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: c.dModel,
    intermediate_size: c.ffn,
    num_attention_heads: c.heads,
    num_key_value_heads: c.heads,
    num_hidden_layers: c.layers,
    rms_norm_eps: c.rmsEps,
    rope_theta: c.ropeTheta,
    vocab_size: c.vocab,
    max_position_embeddings: c.context,
    tie_word_embeddings: false,
    hidden_act: "silu",
    attention_bias: false,
    mlp_bias: false,
    torch_dtype: "float32",
    fp4lab: extra,
  };
}

/** Splits flat parameters into Hugging Face tensors. */
export function toHfTensors(c: ModelConfig, flat: Float32Array): NamedTensor[] {
  const out: NamedTensor[] = [];
  for (const t of paramLayout(c).tensors) {
    const cols = t.shape[1];
    let row = 0;
    for (const [name, rows] of t.hf) {
      const data = flat.slice(t.offset + row * cols, t.offset + (row + rows) * cols);
      out.push({ name, shape: rows === 1 && t.shape[0] === 1 ? [cols] : [rows, cols], data });
      row += rows;
    }
  }
  return out;
}

/** Rebuilds flat parameters from Hugging Face tensors; throws one line for a missing/mis-shaped tensor. */
export function fromHfTensors(
  c: ModelConfig,
  tensors: Map<string, NamedTensor>,
  what = "checkpoint",
): Float32Array {
  const lay = paramLayout(c);
  const flat = new Float32Array(lay.totalFloats);
  for (const t of lay.tensors) {
    const cols = t.shape[1];
    let row = 0;
    for (const [name, rows] of t.hf) {
      const x = tensors.get(name);
      if (!x) throw new Error(`${what}: tensor ${name} is missing`);
      if (x.data.length !== rows * cols) {
        throw new Error(`${what}: tensor ${name} has shape [${x.shape}], expected ${rows}x${cols}`);
      }
      flat.set(x.data, t.offset + row * cols);
      row += rows;
    }
  }
  return flat;
}

/** Model config from a Hugging Face config.json object; throws one line when keys are missing or unsupported. */
export function modelConfigFromHf(j: Record<string, unknown>, what = "config.json"): ModelConfig {
  const num = (k: string): number => {
    const v = j[k];
    if (typeof v !== "number") throw new Error(`${what}: missing numeric key "${k}"`);
    return v;
  };
  if (num("num_key_value_heads") !== num("num_attention_heads")) {
    throw new Error(`${what}: grouped-query attention is not supported`);
  }
  const c: ModelConfig = {
    layers: num("num_hidden_layers"),
    dModel: num("hidden_size"),
    heads: num("num_attention_heads"),
    ffn: num("intermediate_size"),
    context: num("max_position_embeddings"),
    vocab: num("vocab_size"),
    rmsEps: num("rms_norm_eps"),
    ropeTheta: typeof j.rope_theta === "number" ? j.rope_theta : 10000,
  };
  try {
    validateModelConfig(c);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  return c;
}
