/**
 * A quantized DiT checkpoint (`deno task ptq` on a DiT) as an ε predictor: the stored fake-quantized weights
 * with the activation quantizers of its config in the forward pass (CPU float64: lib/models/dit/reference.ts's
 * `ditForward` with the quantizers as its linear input hook).
 * `deno task eval --inputs` and `deno task sample` use it for checkpoints carrying `fp4lab.ptq`.
 * @module
 */
import type { DitConfig } from "../models/dit/config.ts";
import type { EpsPredictor } from "../models/dit/diffusion.ts";
import { ditForward } from "../models/dit/reference.ts";
import { actHook } from "./quant.ts";
import type { PtqConfig } from "./checkpoint.ts";

/** The predictor of a quantized DiT: (x, t, y) → ε̂ with the checkpoint's activation quantizers applied. */
export function quantizedDitPredictor(cfg: DitConfig, params: Float32Array, ptq: PtqConfig): EpsPredictor {
  const p = Float64Array.from(params), hook = actHook(ptq.acts);
  return (x, t, y) => ditForward(cfg, p, { batch: t.length, x, t, y }, hook);
}
