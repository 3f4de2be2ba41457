/**
 * Attention recipes as data: how the two attention products (QKᵀ, PV) and, for training recipes, the
 * backward products (dV = Pᵀ·dO, dP = dO·Vᵀ, dQ = dS·K, dK = dSᵀ·Q) quantize their operands. Orthogonal to
 * the linear-layer scheme. A recipe is resolved up front by name ({@link attentionRecipe}) and passed to the
 * attention layer; there is no registry filled at run time.
 *
 * Sources: ../shared/specs/fp4-methods.md §4 (a1) SageAttention3, (a2) SageBwd.
 * @module
 */
import { unknownNameMessage } from "../spec/suggest.ts";

/**
 * How one operand is quantized (fake quantization: quantize, then dequantize to f32).
 * - `f32`: unchanged.
 * - `bf16` / `fp16`: each element rounded to the 16-bit float (RNE).
 * - `nvfp4`: E2M1 in groups of 16 along the product's contraction axis, scale E4M3(amax/6) (single level,
 *   the SageAttention3 kernel's form).
 * - `mxfp4`: E2M1 in groups of 32 along the contraction axis, E8M0 scale by the OCP rule.
 * - `int8-block`: INT8, one scale max|x|/127 per block of `tile` tokens × the head size (or, for token×token
 *   matrices, `tile` × `tile`).
 * - `int8-token`: INT8 per token and key tile, scale max/127 over the row's keys in the tile (SageBwd's P).
 */
export type OperandQuant = "f32" | "bf16" | "fp16" | "nvfp4" | "mxfp4" | "int8-block" | "int8-token";

/** Quantizers of the backward products (training recipes). */
export interface BackwardQuant {
  /** dO as the second operand of dV = Pᵀ·dO. */
  dO: OperandQuant;
  /** P as the first operand of dV = Pᵀ·dO (recomputed P = exp(S − lse)). */
  p: OperandQuant;
  /** dO and V in dP = dO·Vᵀ (SageBwd: 16-bit; its ablation: INT8). */
  dP: OperandQuant;
  /** dS in dQ = dS·K and dK = dSᵀ·Q. */
  dS: OperandQuant;
  /** K in dQ = dS·K and Q in dK = dSᵀ·Q (the forward's quantized Q̂, K̂ when the formats match). */
  qk: OperandQuant;
}

/** One attention recipe. */
export interface AttentionRecipe {
  /** Name used by `--attention`, specs and runs.csv. */
  name: string;
  /** One line for `deno task schemes`. */
  summary: string;
  /** Q and K in S = Q·Kᵀ (groups along the head dimension). */
  qk: OperandQuant;
  /** V in O = P·V (groups along tokens, the contraction axis). */
  v: OperandQuant;
  /** P in O = P·V (groups along keys). */
  p: OperandQuant;
  /** Multiplier of the unnormalised probabilities before quantization: 448·6 (two-level P) or 1. */
  pScale: number;
  /** Subtract the token mean of K (exact: softmax is shift-invariant per row). */
  smoothK: boolean;
  /** Subtract the per-block mean q̄ of Q and add ΔS = q̄·Kᵀ to the scores in f32. */
  smoothQ: boolean;
  /** Query block of the Q mean (SageAttention3: 128). */
  qBlock: number;
  /** Key tile of the online softmax (the per-tile running max and P quantization) and INT8 block size. */
  tile: number;
  /** Backward quantizers; absent: an inference recipe (not trainable). */
  backward?: BackwardQuant;
}

/** The training-engine default: every attention product in f32. */
export const FP32_ATTENTION: AttentionRecipe = Object.freeze({
  name: "fp32",
  summary: "every attention product in f32 (the engine's default)",
  qk: "f32",
  v: "f32",
  p: "f32",
  pScale: 1,
  smoothK: false,
  smoothQ: false,
  qBlock: 128,
  tile: 64,
  backward: Object.freeze({ dO: "f32", p: "f32", dP: "f32", dS: "f32", qk: "f32" }),
}) as AttentionRecipe;

const SAGE3: AttentionRecipe = {
  name: "sage3",
  summary: "SageAttention3 (inference): NVFP4 Q,K (along d) and V (along tokens), K/Q smoothing with ΔS, " +
    "two-level P (×448·6) in NVFP4",
  qk: "nvfp4",
  v: "nvfp4",
  p: "nvfp4",
  pScale: 448 * 6,
  smoothK: true,
  smoothQ: true,
  qBlock: 128,
  tile: 128,
};

const SAGEBWD: AttentionRecipe = {
  name: "sagebwd",
  summary: "SageBwd (training): per-block INT8 Q,K,V, per-token INT8 P, K smoothing; backward dV, dQ, dK " +
    "in INT8, dP = dO·Vᵀ in FP16",
  qk: "int8-block",
  v: "int8-block",
  p: "int8-token",
  pScale: 1,
  smoothK: true,
  smoothQ: false,
  qBlock: 128,
  tile: 64,
  backward: { dO: "int8-block", p: "int8-token", dP: "fp16", dS: "int8-block", qk: "int8-block" },
};

/** Every attention recipe, in listing order. */
export const ATTENTION_RECIPES: readonly AttentionRecipe[] = Object.freeze(([
  FP32_ATTENTION,
  {
    name: "bf16",
    summary: "Q, K, V, P and every backward operand rounded to BF16, products accumulated in f32",
    qk: "bf16",
    v: "bf16",
    p: "bf16",
    pScale: 1,
    smoothK: false,
    smoothQ: false,
    qBlock: 128,
    tile: 64,
    backward: { dO: "bf16", p: "bf16", dP: "bf16", dS: "bf16", qk: "bf16" },
  },
  SAGE3,
  {
    ...SAGE3,
    name: "sage3-mxfp4",
    summary: "sage3 with MXFP4 (E8M0 scales, groups of 32) for Q, K, V, P",
    qk: "mxfp4",
    v: "mxfp4",
    p: "mxfp4",
  },
  {
    ...SAGE3,
    name: "sage3-direct-p",
    summary: "sage3 with P in [0,1] quantized directly (no ×448·6)",
    pScale: 1,
  },
  {
    ...SAGE3,
    name: "sage3-no-smooth",
    summary: "sage3 without K/Q smoothing (no ΔS)",
    smoothK: false,
    smoothQ: false,
  },
  SAGEBWD,
  {
    ...SAGEBWD,
    name: "sagebwd-int8-dp",
    summary: "sagebwd with dP = dO·Vᵀ in INT8 too (ablation)",
    backward: { ...SAGEBWD.backward!, dP: "int8-block" },
  },
] as AttentionRecipe[]).map((r) => Object.freeze(r)));

/** Recipe names in listing order. */
export function attentionNames(): string[] {
  return ATTENTION_RECIPES.map((r) => r.name);
}

/** The recipe called `name`; throws a one-line error with the closest names for an unknown one. */
export function attentionRecipe(name: string): AttentionRecipe {
  const r = ATTENTION_RECIPES.find((x) => x.name === name);
  if (!r) throw new Error(unknownNameMessage("attention recipe", name, attentionNames()));
  return r;
}

/** True for the recipe that leaves attention in f32 (the engine's exact path, bit-identical to before). */
export function isExactAttention(r: AttentionRecipe): boolean {
  return r.name === "fp32";
}

/** Throws a one-line error when `r` cannot train (an inference recipe). */
export function checkTrainable(r: AttentionRecipe): void {
  if (!r.backward) {
    throw new Error(
      `attention recipe "${r.name}" is inference-only (no backward); train with one of: ${
        ATTENTION_RECIPES.filter((x) => x.backward).map((x) => x.name).join(", ")
      } and evaluate with --attention ${r.name}`,
    );
  }
}
