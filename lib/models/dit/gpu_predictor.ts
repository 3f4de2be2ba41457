/**
 * The GPU DiT as an ε predictor ({@link EpsPredictor}) for evaluation and DDIM sampling: one forward-only
 * model of a fixed batch, fed any number of images in chunks (a ragged last chunk is zero-filled and
 * dropped). The forward recipe of the run applies (like the validation loss during training).
 * @module
 */
import type { AttentionRecipe } from "../../attention/recipes.ts";
import type { SchemeChoice } from "../../engine/api.ts";
import { sharedRuntime } from "../../gpu/runtime.ts";
import { resolveRecipe } from "../../schemes/resolve.ts";
import type { DitConfig } from "./config.ts";
import type { EpsPredictor } from "./diffusion.ts";
import { GpuDit } from "./model.ts";

/**
 * Why the GPU DiT cannot run a config (undefined when it can): p·p·C, the width and the head size must suit
 * the GEMM tiles (p·p·C and head size multiples of 8, width a multiple of 32).
 */
export function gpuUnsupported(cfg: DitConfig): string | undefined {
  const P = cfg.patch * cfg.patch * cfg.inChannels, hd = cfg.hidden / cfg.heads;
  if (P % 8) return `p·p·C = ${P} is not a multiple of 8`;
  if (cfg.hidden % 32) return `width ${cfg.hidden} is not a multiple of 32`;
  if (hd % 8) return `head size ${hd} is not a multiple of 8`;
  return undefined;
}

/** Default chunk size of GPU predictions (a multiple of 8). */
export const PREDICT_BATCH = 64;

/** A predictor over an existing model (its current parameters). */
export function modelPredictor(model: GpuDit): EpsPredictor {
  const B = model.batch, c = model.cfg, per = c.inChannels * c.inputSize * c.inputSize;
  return async (x, t, y) => {
    const n = t.length, out = new Float32Array(n * per);
    for (let a = 0; a < n; a += B) {
      const k = Math.min(B, n - a);
      const xb = new Float32Array(B * per), tb = new Int32Array(B), yb = new Int32Array(B);
      xb.set(x.subarray(a * per, (a + k) * per));
      tb.set(t.subarray(a, a + k));
      yb.set(y.subarray(a, a + k));
      model.writeInputs({ x: xb, t: tb, y: yb });
      const eps = await model.predict();
      out.set(eps.subarray(0, k * per), a * per);
    }
    return out;
  };
}

/**
 * A GPU predictor for a checkpoint's parameters, with the forward half of `scheme` (default f32) and an
 * attention recipe (default f32). The model
 * lives as long as the process (one per call: create it once per task).
 */
export async function gpuPredictor(
  cfg: DitConfig,
  params: Float32Array,
  scheme: SchemeChoice = { fwd: "fp32", bwd: "fp32" },
  opts: { attention?: AttentionRecipe; batch?: number } = {},
): Promise<EpsPredictor> {
  const { attention, batch = PREDICT_BATCH } = opts;
  const { rt } = await sharedRuntime();
  const recipe = resolveRecipe({
    fwd: scheme.fwd,
    bwd: "fp32",
    ...(scheme.fwdDef ? { fwdDef: scheme.fwdDef } : {}),
  });
  const model = GpuDit.create(rt, cfg, { batch, recipe, train: false, attention });
  model.setParams(params);
  return modelPredictor(model);
}
