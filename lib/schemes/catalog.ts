/**
 * The catalogue of named schemes, as data. Constants from /work/shared/specs/quartet.md §4 and
 * fp4-methods.md §1–2, §0. Forward halves, backward halves and preset pairs are listed separately; any
 * forward label composes with any backward label.
 * @module
 */
import { ELEMENTS } from "../formats/elements.ts";
import type { BackwardHalf, ForwardHalf, NamedScheme, OperandQuant } from "./types.ts";
import { closestNames as suggestNames } from "../spec/suggest.ts";

/** Elementwise BF16 rounding (the baseline's operands). */
const BF16: OperandQuant = {
  element: "bf16",
  scale: { granularity: "none", type: "f32", rule: "absmax" },
  rounding: "nearest",
};

/** Generic round-to-nearest with f32 absmax scales per block of 32 along the reduction axis (or per row). */
export function rtnOp(element: string, granularity: "block" | "row" = "block"): OperandQuant {
  return {
    element,
    scale: granularity === "block"
      ? { granularity: "block", block: 32, type: "f32", rule: "absmax" }
      : { granularity: "row", type: "f32", rule: "absmax" },
    rounding: "nearest",
  };
}

/** The block-scaled presets of lib/formats as operands (NVFP4 single-level: no tensor scale). */
const PRESET_OPS: Record<string, OperandQuant> = {
  mxfp4: {
    element: "e2m1",
    scale: { granularity: "block", block: 32, type: "e8m0", rule: "ocp" },
    rounding: "nearest",
  },
  mxfp6_e2m3: {
    element: "e2m3",
    scale: { granularity: "block", block: 32, type: "e8m0", rule: "ocp" },
    rounding: "nearest",
  },
  mxfp6_e3m2: {
    element: "e3m2",
    scale: { granularity: "block", block: 32, type: "e8m0", rule: "ocp" },
    rounding: "nearest",
  },
  mxfp8_e4m3: {
    element: "e4m3",
    scale: { granularity: "block", block: 32, type: "e8m0", rule: "ocp" },
    rounding: "nearest",
  },
  mxfp8_e5m2: {
    element: "e5m2",
    scale: { granularity: "block", block: 32, type: "e8m0", rule: "ocp" },
    rounding: "nearest",
  },
  nvfp4: {
    element: "e2m1",
    scale: { granularity: "block", block: 16, type: "e4m3", rule: "absmax" },
    rounding: "nearest",
  },
};

/** Element formats the generic RTN family walks (bf16/fp16 excluded: they need no scale). */
const RTN_ELEMENTS = [
  ...Object.keys(ELEMENTS).filter((e) => !["bf16", "fp16", "int4", "int8"].includes(e)),
  "int2",
  "int3",
  "int4",
  "int5",
  "int6",
  "int7",
  "int8",
];

/** Quartet's MXFP4 quantizers (quartet.md §4.3–4.4): 32-point Hadamard, E8M0 scales along K. */
function quartetOp(
  rule: "quest" | "quest-round" | "ocp",
  rounding: "nearest" | "stochastic",
  signs: "fixed" | "per-step",
): OperandQuant {
  return {
    element: "e2m1",
    scale: { granularity: "block", block: 32, type: "e8m0", rule },
    rounding,
    hadamard: { size: 32, signs },
    // AbsMax (OCP rule) quantizers take ¾ of the value so |u| < 6 (no clipping) and scale back by 4/3.
    ...(rule === "ocp" ? { prescale: 0.75 } : {}),
    estimator: rule === "ocp" ? "ste" : "trust",
  };
}

/** QuEST INT Gaussian-MSE-optimal clip constants α_b (quartet.md §4.6), bits 1..8. */
export const QUEST_INT_ALPHA: Readonly<Record<number, number>> = {
  1: 0.79788,
  2: 1.49353,
  3: 2.05107,
  4: 2.51393,
  5: 2.91609,
  6: 3.2766,
  7: 3.60105,
  8: 3.88494,
};

function questIntOp(bits: number): OperandQuant {
  return {
    element: "centred",
    scale: { granularity: "row", type: "f32", rule: "rms" },
    rounding: "nearest",
    hadamard: { size: 128, signs: "fixed" },
    centred: { bits, alpha: QUEST_INT_ALPHA[bits] },
    estimator: "trust",
  };
}

/** Wang et al. weights: E2M1, per output row absmax, optional DGE (k = 5, φ' clamped at 3). */
function wangW(dge: boolean): OperandQuant {
  return { ...rtnOp("e2m1", "row"), ...(dge ? { estimator: "dge", dge: { k: 5, clamp: 3 } } : {}) };
}
/** Wang et al. activations: E2M1 per token, optional OCC (quantile 0.99 clamp, residual added back). */
function wangX(occ: boolean): OperandQuant {
  return { ...rtnOp("e2m1", "row"), ...(occ ? { clip: { quantile: 0.99, compensate: true } } : {}) };
}

const FP8_X = rtnOp("e4m3");
const FP8_G = rtnOp("e5m2");

/** Every forward half, by label (a null-prototype object: `constructor` is not a label). */
export const FORWARD: Record<string, ForwardHalf> = Object.create(null);
/** Every backward half, by label (null prototype). */
export const BACKWARD: Record<string, BackwardHalf> = Object.create(null);

function fwd(h: ForwardHalf): void {
  FORWARD[h.label] = h;
}
function bwd(h: BackwardHalf): void {
  BACKWARD[h.label] = h;
}

fwd({ label: "fp32", description: "no quantization (f32 GEMMs)" });
bwd({ label: "fp32", description: "no quantization (f32 GEMMs)" });
fwd({ label: "bf16", description: "X and W rounded to BF16 (RNE), f32 accumulate", x: BF16, w: BF16 });
bwd({
  label: "bf16",
  description: "dY, W, X rounded to BF16 in both backward GEMMs",
  dxDy: BF16,
  dxW: BF16,
  dwDy: BF16,
  dwX: BF16,
});
fwd({ label: "fp8", description: "X, W in E4M3, f32 absmax scale per 32 along K", x: FP8_X, w: FP8_X });
bwd({
  label: "fp8",
  description: "dY in E5M2, W and X in E4M3, f32 absmax scale per 32 along each GEMM's K",
  dxDy: FP8_G,
  dxW: FP8_X,
  dwDy: FP8_G,
  dwX: FP8_X,
});

for (
  const [name, op] of [
    ...RTN_ELEMENTS.map((e) => [e, rtnOp(e)] as const),
    ...RTN_ELEMENTS.map((e) => [`${e}-row`, rtnOp(e, "row")] as const),
    ...Object.entries(PRESET_OPS),
  ]
) {
  const how = name in PRESET_OPS
    ? `${name} block scales`
    : name.endsWith("-row")
    ? `${op.element}, f32 absmax scale per row`
    : `${op.element}, f32 absmax scale per 32 along K`;
  fwd({ label: `rtn-${name}`, description: `RTN of X and W: ${how}`, x: op, w: op });
  bwd({
    label: `rtn-${name}`,
    description: `RTN of dY, W, X in both backward GEMMs: ${how}`,
    dxDy: op,
    dxW: op,
    dwDy: op,
    dwX: op,
  });
}

// ---- Quartet family (MXFP4, Hadamard 32 on every quantized operand) ----
fwd({
  label: "quest",
  description:
    "MXFP4 X, W: Hadamard-32, QuEST σ scale 2^floor(log2 0.487σ), RTN, trust mask, grads un-rotated",
  x: quartetOp("quest", "nearest", "fixed"),
  w: quartetOp("quest", "nearest", "fixed"),
});
fwd({
  label: "quest-round",
  description: "as quest with the scale exponent rounded to nearest",
  x: quartetOp("quest-round", "nearest", "fixed"),
  w: quartetOp("quest-round", "nearest", "fixed"),
});
fwd({
  label: "rtn-absmax",
  description: "MXFP4 X, W: Hadamard-32, OCP absmax E8M0 scale on ¾x, RTN, STE",
  x: quartetOp("ocp", "nearest", "fixed"),
  w: quartetOp("ocp", "nearest", "fixed"),
});
fwd({
  label: "sr-absmax",
  description: "MXFP4 X, W: Hadamard-32, OCP absmax E8M0 scale on ¾x, stochastic rounding, STE",
  x: quartetOp("ocp", "stochastic", "fixed"),
  w: quartetOp("ocp", "stochastic", "fixed"),
});
for (const [label, r] of [["rtn-bwd", "nearest"], ["sr-bwd", "stochastic"]] as const) {
  const op = quartetOp("ocp", r, "per-step");
  bwd({
    label,
    description: `MXFP4 dY, W_q, X_q along each GEMM's K: per-step random-sign Hadamard-32, ¾ prescale, ${
      r === "nearest" ? "RTN" : "SR"
    }, 16/9 back`,
    dxDy: op,
    dxW: op,
    dwDy: op,
    dwX: op,
  });
}

// ---- QuEST integer QAT ----
for (let b = 2; b <= 8; b++) {
  fwd({
    label: `quest-int${b}`,
    description: `INT${b} X, W: Hadamard-128, per-row RMS clip α=${
      QUEST_INT_ALPHA[b]
    }, centred grid, trust mask`,
    x: questIntOp(b),
    w: questIntOp(b),
  });
}

// ---- Wang et al. 2025 ----
fwd({
  label: "fp4-dge-occ",
  description: "E2M1 W per row + DGE (k=5, ≤3); E2M1 X per token, OCC clamp at q0.99 + residual",
  x: wangX(true),
  w: wangW(true),
});
fwd({
  label: "fp4-direct",
  description: "E2M1 W per row, E2M1 X per token, STE",
  x: wangX(false),
  w: wangW(false),
});
fwd({
  label: "fp4-dge",
  description: "E2M1 W per row + DGE; E2M1 X per token",
  x: wangX(false),
  w: wangW(true),
});
fwd({
  label: "fp4-occ",
  description: "E2M1 W per row; E2M1 X per token + OCC",
  x: wangX(true),
  w: wangW(false),
});
bwd({
  label: "e5m2-grad",
  description: "dY in E5M2 (f32 absmax per 32 along K); W_q, X_q as in the forward",
  dxDy: FP8_G,
  dwDy: FP8_G,
});

// ---- Zhou et al. 2025 ----
fwd({
  label: "fp4-mixed",
  description: "module-wise: qkv, o in E4M3 (per 32 along K); gate_up, down in E2M1 per row",
  x: rtnOp("e2m1", "row"),
  w: rtnOp("e2m1", "row"),
  modules: { qkv: { x: FP8_X, w: FP8_X }, o: { x: FP8_X, w: FP8_X } },
});

// ---- LUQ-INT4 (Chmiel et al. 2023; Quartet Table 3 baseline) ----
fwd({
  label: "luq-int4",
  description: "INT4 X, W: f32 absmax scale per row (per token / per output channel), RTN, STE",
  x: rtnOp("int4", "row"),
  w: rtnOp("int4", "row"),
});
bwd({
  label: "luq-bwd",
  description: "dY to radix-2 FP4 (E3M0) with stochastic rounding (unbiased log quantization, stochastic " +
    "underflow), f32 absmax per 32 along K; W_q, X_q as in the forward",
  dxDy: { ...rtnOp("e3m0"), rounding: "stochastic" },
  dwDy: { ...rtnOp("e3m0"), rounding: "stochastic" },
});

/** The forward half with lm_head included (as its default x/w operands). */
export function withLmHead(h: ForwardHalf): ForwardHalf {
  return {
    ...h,
    label: `${h.label}+lm_head`,
    description: `${h.description}; also lm_head`,
    modules: { ...h.modules, lm_head: { x: h.x, w: h.w } },
  };
}

/** Preset pairs: `--scheme NAME` (null prototype). */
export const NAMED: Record<string, NamedScheme> = Object.create(null);
function named(name: string, f: string, b: string, description: string): void {
  NAMED[name] = { name, fwd: f, bwd: b, description };
}
named("fp32", "fp32", "fp32", "all GEMMs in f32");
named("bf16", "bf16", "bf16", "all GEMM operands in BF16 (the baseline)");
named("fp8", "fp8", "fp8", "E4M3 forward operands, E5M2 gradients, E4M3 W/X in backward");
named("quartet", "quest", "rtn-bwd", "Quartet (paper v4): quest forward + RTN MXFP4 backward");
named("quartet-sr", "quest", "sr-bwd", "Quartet reference script: quest forward + SR MXFP4 backward");
for (let b = 2; b <= 8; b++) {
  named(`quest-int${b}`, `quest-int${b}`, "bf16", `QuEST INT${b} forward, BF16 backward`);
}
named("fp4-dge-occ", "fp4-dge-occ", "e5m2-grad", "Wang et al.: FP4 W (DGE) and X (OCC), E5M2 gradients");
named("fp4-direct", "fp4-direct", "e5m2-grad", "Wang et al. ablation: FP4 W/X without DGE or OCC");
named("fp4-dge", "fp4-dge", "e5m2-grad", "Wang et al. ablation: DGE only");
named("fp4-occ", "fp4-occ", "e5m2-grad", "Wang et al. ablation: OCC only");
named("luq-int4", "luq-int4", "luq-bwd", "LUQ-INT4: INT4 forward, radix-2 FP4 SR gradients");
named("fp4-mixed", "fp4-mixed", "fp8", "Zhou et al.: attention projections FP8, MLP FP4, backward FP8");

/**
 * Resolves `--scheme NAME` to a {fwd, bwd} pair: a preset; else a label of both halves (rtn-*) on both;
 * else a forward-only label with a BF16 backward, or a backward-only label with a BF16 forward.
 * Returns undefined for unknown names.
 */
export function schemePair(name: string): { fwd: string; bwd: string } | undefined {
  const n = NAMED[name];
  if (n) return { fwd: n.fwd, bwd: n.bwd };
  const f = name in FORWARD, b = name in BACKWARD;
  if (f && b) return { fwd: name, bwd: name };
  const head = /^(.*)\+lm_head$/.exec(name);
  if (head && schemePair(head[1])) {
    const p = schemePair(head[1])!;
    return p.fwd === "fp32" || p.fwd === "bf16" ? undefined : { fwd: `${p.fwd}+lm_head`, bwd: p.bwd };
  }
  if (f) return { fwd: name, bwd: "bf16" };
  if (b) return { fwd: "bf16", bwd: name };
  return undefined;
}

/** Every name `--scheme` accepts. */
export function schemeNames(): string[] {
  return [...new Set([...Object.keys(NAMED), ...Object.keys(FORWARD), ...Object.keys(BACKWARD)])];
}

/** The `n` known scheme names closest to `name` (the project's one "did you mean" rule, lib/spec/suggest.ts). */
export function closestNames(name: string, pool: string[] = schemeNames(), n = 3): string[] {
  return suggestNames(name, pool, n);
}
