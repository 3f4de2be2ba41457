/**
 * Which runs may train packed (./pack.ts), decided from their configs alone (no device, no engine): Llama
 * runs whose configs are equal except for seed, peak lr and schedule ({@link packKey}), on schemes whose
 * linear layers can run packed ({@link packProblemOf}), f32 attention, no scheme switch
 * and no init checkpoint. Schemes with prepare passes (QuEST, Quartet, RTN/SR MXFP4 …) pack too; only the
 * opt-in packed-FP4 GEMM path (`compileOptions.packed`) and dW multipliers in a GEMM epilogue do not.
 * @module
 */
import type { ModelConfig, TrainConfig } from "./api.ts";
import { type Backend, type LinearScheme, type OperandPrep, packProblem } from "../layers/linear.ts";
import { resolveRecipe } from "../schemes/resolve.ts";
import { parseSwitch } from "../schemes/schedule.ts";

/** Most runs in one pack by default (the demo shape's dispatch costs are mostly shared by then). */
export const DEFAULT_PACK = 8;

/** Runs with equal keys may be packed: equal but for seed, peak lr and schedule. */
export function packKey(c: TrainConfig): string {
  const { seed: _s, lr: _l, schedule: _w, ...rest } = c;
  return JSON.stringify({ ...rest, scheme: c.scheme ?? { fwd: "fp32", bwd: "fp32" } });
}

/** Why a run of this config cannot be packed (undefined: it can). Pure: resolves the recipe, builds nothing. */
export function packProblemOf(c: TrainConfig): string | undefined {
  if (c.model.family === "dit") return "DiT runs are not packed";
  if (c.initFrom !== undefined) return "runs starting from a checkpoint are not packed";
  if ((c.attention ?? "fp32") !== "fp32") return `attention ${c.attention} is not packed`;
  const choice = c.scheme ?? { fwd: "fp32", bwd: "fp32" };
  if (parseSwitch(choice)) return "runs with a scheme switch are not packed";
  const recipe = resolveRecipe(choice);
  for (const s of [recipe, ...Object.values(recipe.modules ?? {})]) {
    const p = schemeProblem(s);
    if (p) return p;
  }
  return undefined;
}

/** {@link packProblem} of a layer of scheme `s` as the linear layer would build it (texture operands). */
function schemeProblem(s: LinearScheme): string | undefined {
  const bf = (a?: { bf16?: string }, b?: { bf16?: string }) => !!a?.bf16 && a.bf16 === b?.bf16;
  const { fwd, bwd } = s;
  const keeps = !!(fwd.keep || fwd.post || fwd.x?.estimator || fwd.w?.estimator);
  const pk = (p?: OperandPrep) => !!p && !!(p.forLength ? p.forLength(32).pack : p.pack);
  const be = (a?: OperandPrep, b?: OperandPrep): Backend =>
    pk(a) && pk(b) ? "fp4" : bf(a, b) && !keeps ? "bf16" : "f32";
  const backends = { fwd: be(fwd.x, fwd.w), dx: be(bwd.dxDy, bwd.dxW), dw: be(bwd.dwDy, bwd.dwX) };
  return packProblem(s, backends, true, !!fwd.w?.estimator);
}

/** Largest K ≤ `cap` whose packed activations fit the adapter's textures at this shape. */
export function packCapFor(c: TrainConfig, cap: number, maxTextureSide = 8192): number {
  const m = c.model as ModelConfig, M = c.batch * m.context;
  const rows = Math.max(M, 3 * m.dModel, 2 * m.ffn, m.vocab);
  return Math.max(1, Math.min(cap, Math.floor(maxTextureSide / rows)));
}
