/**
 * The scheme data model: a scheme is data, not code paths. One {@link OperandQuant} describes how one
 * GEMM operand is prepared (transform → clip → scale → round → estimator); a {@link ForwardHalf} names
 * the forward GEMM's two operands, a {@link BackwardHalf} the four operands of the dX and dW GEMMs.
 * Forward and backward halves compose freely (`--fwd A --bwd B`); a {@link NamedScheme} is a preset pair.
 * `compile.ts` turns the data into the engine's OperandPrep hooks, `reference.ts` is its TS twin.
 * @module
 */
import type { ScaleRule, ScaleType } from "../formats/scaling.ts";

/** The linear modules of one block (engine names; q/k/v are fused in `qkv`, gate/up in `gate_up`). */
export const MODULES = ["qkv", "o", "gate_up", "down"] as const;
/** One of {@link MODULES}. */
export type ModuleName = typeof MODULES[number];

/** How one operand of one GEMM is quantized. Groups always run along that GEMM's reduction axis. */
export interface OperandQuant {
  /** Element format name of lib/formats (e2m1, e4m3, e5m2, int4, bf16, …); "centred" for the QuEST INT grid. */
  element: string;
  /** Scale granularity along the reduction axis: a block of `block` values, the whole row, or none. */
  scale: {
    granularity: "none" | "block" | "row";
    block?: number;
    type: ScaleType;
    /** Scale rule of lib/formats, or "rms" (QuEST INT: clip at alpha·RMS of the row). */
    rule: ScaleRule | "rms";
  };
  /** Round to nearest (even) or stochastically (unbiased). */
  rounding: "nearest" | "stochastic";
  /** Block Hadamard before scaling: "fixed" (no signs) or fresh random signs every step ("per-step"). */
  hadamard?: { size: number; signs: "fixed" | "per-step" };
  /** Multiply by this before rounding and by its inverse after (Quartet backward: 3/4, so |u| < 6). */
  prescale?: number;
  /** Wang et al. OCC: clamp each row at its signed quantiles; `compensate` adds the residual back. */
  clip?: { quantile: number; compensate: boolean };
  /** QuEST INT grid: 2^bits centred levels, clip alpha·RMS (Gaussian-MSE-optimal alpha). */
  centred?: { bits: number; alpha: number };
  /** Gradient estimator (forward operands): straight-through, trust mask, or Wang's DGE. */
  estimator?: "ste" | "trust" | "dge";
  /** DGE parameters (k, derivative clamp). */
  dge?: { k: number; clamp: number };
}

/** Forward half: quantizers of X and W in Y = X·Wᵀ, optionally different per module. */
export interface ForwardHalf {
  /** Label (e.g. "quest"). */
  label: string;
  /** One line: what it quantizes and how. */
  description: string;
  /** Activation operand X (groups along in-features). */
  x?: OperandQuant;
  /** Weight operand W (groups along in-features). */
  w?: OperandQuant;
  /** Per-module overrides (module-wise precision, Zhou et al.); a module absent here uses x/w. */
  modules?: Partial<Record<ModuleName | "lm_head", { x?: OperandQuant; w?: OperandQuant }>>;
}

/** Backward half: quantizers of dY and W in dX = dY·W, and of dY and X in dW = dYᵀ·X. */
export interface BackwardHalf {
  /** Label (e.g. "rtn-bwd"). */
  label: string;
  /** One line: what it quantizes and how. */
  description: string;
  dxDy?: OperandQuant;
  dxW?: OperandQuant;
  dwDy?: OperandQuant;
  dwX?: OperandQuant;
}

/** A named preset pair (e.g. quartet = quest + rtn-bwd). */
export interface NamedScheme {
  name: string;
  fwd: string;
  bwd: string;
  description: string;
}
