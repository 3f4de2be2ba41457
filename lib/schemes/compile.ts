/**
 * Compiles scheme data (lib/schemes/types.ts) into the engine's hooks (lib/layers/linear.ts): every
 * {@link OperandQuant} becomes an OperandPrep whose fused WGSL comes from kernels/schemes/prep.ts,
 * specialised per reduction length (row-wise groups, Hadamard size) through `forLength`.
 * @module
 */
import type { ForwardOps, LinearScheme, OperandPrep } from "../layers/linear.ts";
import type { BackwardHooks, ForwardHooks } from "./resolve.ts";
import { packable, postPrepWgsl, prepWgsl } from "../../kernels/schemes/prep.ts";
import { packKernel } from "../../kernels/schemes/fp4gemm.ts";
import { groupSize, needsPost, postGroup } from "./reference.ts";
import type { BackwardHalf, ForwardHalf, OperandQuant } from "./types.ts";

/**
 * Compile options. `packed`: GEMMs whose two operands are E2M1 run as packed FP4 GEMMs (kernels/schemes/
 * fp4gemm.ts). Off by default: the kernel beats the engine's f32 storage GEMM but, measured end to end on
 * the reference model, loses to the engine's texture GEMMs (quartet 2.25 vs 1.84 CPU-s/step); `deno task
 * bench schemes --packed` compares both. Read when a model is built.
 */
export const compileOptions = { packed: false };

/** Stable key of an operand description (part of the pipeline cache key). */
export function operandKey(op: OperandQuant): string {
  return JSON.stringify(op);
}

/** Whether the forward operand stores a gradient multiplier (trust mask or DGE). */
function hasEstimator(op: OperandQuant): boolean {
  return op.estimator === "trust" || op.estimator === "dge";
}

/** One operand as an engine hook; `gemm` selects the per-step sign salt of backward operands. */
export function compileOperand(op: OperandQuant, gemm: "dx" | "dw" = "dx"): OperandPrep {
  const key = `${operandKey(op)}|${gemm}`;
  const cache = new Map<number, OperandPrep>();
  const estimator = hasEstimator(op);
  const forLength = (len: number): OperandPrep => {
    const G = groupSize(op, len);
    const packed = compileOptions.packed && packable(op) && G % 32 === 0;
    let p = cache.get(G * 2 + (packed ? 1 : 0));
    if (!p) {
      p = { id: `${key}|${G}`, group: G, wgsl: prepWgsl(op, G, gemm), estimator };
      if (packed) {
        p.pack = (R: number, C: number, axis: 0 | 1, est: boolean, salt: number) =>
          packKernel(op, R, C, axis, G, gemm, est, salt);
      }
      cache.set(G * 2 + (packed ? 1 : 0), p);
    }
    return p;
  };
  return { id: key, group: 1, wgsl: "", estimator, forLength };
}

/** The gradient post-pass hook of a forward operand (multiplier, then inverse rotation). */
export function compilePost(op: OperandQuant): OperandPrep {
  const key = `post|${operandKey(op)}`;
  const forLength = (len: number): OperandPrep => {
    const P = postGroup(op, len);
    return { id: `${key}|${P}`, group: P, wgsl: postPrepWgsl(op, len) };
  };
  return { id: key, group: 1, wgsl: "", forLength };
}

/** Forward operands → ForwardOps (backward GEMMs read the kept X_q / W_q). */
function forwardOps(x?: OperandQuant, w?: OperandQuant): ForwardOps {
  if (!x && !w) return {};
  const post: ForwardOps["post"] = {};
  if (needsPost(x)) post.x = compilePost(x!);
  if (needsPost(w)) post.w = compilePost(w!);
  return {
    x: x && compileOperand(x),
    w: w && compileOperand(w),
    keep: true,
    post: post.x || post.w ? post : undefined,
  };
}

/** A forward half as engine hooks (with per-module overrides). */
export function compileForward(h: ForwardHalf): ForwardHooks {
  const base: ForwardHooks = forwardOps(h.x, h.w);
  if (h.modules) {
    base.modules = {};
    for (const [m, o] of Object.entries(h.modules)) base.modules[m] = forwardOps(o!.x, o!.w);
  }
  return base;
}

/** A backward half as engine hooks; both operands of one GEMM share its per-step sign salt. */
export function compileBackward(h: BackwardHalf): BackwardHooks {
  const out: LinearScheme["bwd"] = {};
  if (h.dxDy) out.dxDy = compileOperand(h.dxDy, "dx");
  if (h.dxW) out.dxW = compileOperand(h.dxW, "dx");
  if (h.dwDy) out.dwDy = compileOperand(h.dwDy, "dw");
  if (h.dwX) out.dwX = compileOperand(h.dwX, "dw");
  return out;
}
