/**
 * The DiT's linear layers as PTQ sees them: which ones a recipe quantizes ({@link DitScope}) and their shapes,
 * named by their weight tensors — the names lib/models/dit/reference.ts's `ditForward` passes to its linear
 * input hook, where the calibration capture (lib/ptq/dit_calib.ts) and a quantized DiT's activation quantizers
 * (lib/ptq/dit_eval.ts) sit.
 * @module
 */
import { type DitConfig, ditPatchDim, FREQ_DIM } from "../models/dit/config.ts";
import type { LinearInfo } from "./forward.ts";

/** Which DiT linears a recipe quantizes: those in the DiT blocks, or every linear of the model. */
export type DitScope = "blocks" | "all";

/**
 * The DiT's linear layers in forward order (names are the weight tensors' names). `blocks`: per block the
 * adaLN modulation, qkv, proj, fc1, fc2; `all` adds the patch embedding, the timestep MLP and the final
 * layer's modulation and linear. The label embedding table is not a linear (LLM-FP4 may quantize it as an
 * embedding, weight only).
 */
export function ditLinearLayers(c: DitConfig, scope: DitScope): LinearInfo[] {
  const h = c.hidden, f = c.mlpRatio * h, P = ditPatchDim(c), out: LinearInfo[] = [];
  const add = (name: string, kind: LinearInfo["kind"], inF: number, outF: number) =>
    out.push({ name: `${name}.weight`, kind, inF, outF });
  if (scope === "all") {
    add("x_embedder.proj", "x_embed", P, h);
    add("t_embedder.mlp.0", "t_embed", FREQ_DIM, h);
    add("t_embedder.mlp.2", "t_embed", h, h);
  }
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}`;
    add(`${b}.adaLN_modulation.1`, "adaln", h, 6 * h);
    add(`${b}.attn.qkv`, "qkv", h, 3 * h);
    add(`${b}.attn.proj`, "o", h, h);
    add(`${b}.mlp.fc1`, "fc1", h, f);
    add(`${b}.mlp.fc2`, "down", f, h);
  }
  if (scope === "all") {
    add("final_layer.adaLN_modulation.1", "adaln", h, 2 * h);
    add("final_layer.linear", "final", h, P);
  }
  return out;
}
