/**
 * Scaling (per tensor, per row/column, per block along the reduction axis) and the TS reference of the
 * whole operand pipeline: optional Hadamard rotation → per-group scale → element rounding (+ clip mask)
 * → dequantize → optional inverse rotation. The WGSL generator emits the same steps in the same order.
 *
 * Layout: a row-major [rows, cols] tensor; the reduction axis is the last one (axis 1, contiguous),
 * which is where blocks and Hadamard blocks run by default. `axis: 0` puts blocks down the columns.
 * @module
 */
import { type ElementFormat, ELEMENTS } from "./elements.ts";
import { copySign, f32Bits, f32FromBits, floorLog2, isNaNBits, pow2 } from "./f32.ts";
import { HADAMARD_SIZES, hadamardForward, hadamardInverse, hadamardSigns } from "./hadamard.ts";
import { encodeElement, quantizeElement } from "./quantize.ts";
import { rngUniform } from "./rng.ts";

/** Which elements share one scale. */
export type Granularity = "none" | "tensor" | "row" | "col" | "block";
/** How a scale is represented: plain f32, a power of two (E8M0), or an FP8 E4M3 value. */
export type ScaleType = "f32" | "e8m0" | "e4m3";
/**
 * How a group's scale is chosen.
 * - "absmax": s = amax/elem.max, cast to the scale type (E8M0: 2^ceil(log2), never clips).
 * - "ocp": OCP MX v1.0, s = 2^(floor(log2 amax) − emax_elem), exponent clamped to [−127, 127] (E8M0 only).
 * - "quest": Quartet/QuEST forward, s = 2^floor(log2(0.48707976·σ + 1e-8)), σ = population std (E8M0 only).
 * - "quest-round": same with the exponent rounded to nearest (log2 mantissa ≥ √2 rounds up).
 */
export type ScaleRule = "absmax" | "ocp" | "quest" | "quest-round";

/** Group scaling of one operand. */
export interface ScaleSpec {
  /** Which elements share one scale. */
  granularity: Granularity;
  /** Block length for granularity "block": 16, 32, 64 or 128 (any power of two 2..256 is accepted). */
  block?: number;
  /** Axis the blocks run along: 1 = along a row (last axis, default), 0 = down a column. */
  axis?: 0 | 1;
  /** How the scale is stored. */
  type: ScaleType;
  /** How the scale is chosen from the group. */
  rule: ScaleRule;
  /** Two-level scaling (NVFP4): an f32 tensor scale St = amax_tensor/(448·elem.max) under E4M3 block scales. */
  tensorScale?: boolean;
}

/** Everything that defines the quantization of one operand. */
export interface QuantSpec {
  /** Element format of the values. */
  element: ElementFormat;
  /** Group scaling. */
  scale: ScaleSpec;
  /** Block Hadamard rotation along the last axis before scaling (size 16–256), optional random signs. */
  hadamard?: { size: number; signSeed?: number };
  /** Round to nearest even, or stochastically with the counter-based RNG. */
  rounding: "nearest" | "stochastic";
  /** Seed of the stochastic-rounding stream; element i uses counter `counterOffset + i`. */
  seed?: number;
  /** Added to the flat element index to form the RNG counter (default 0). */
  counterOffset?: number;
}

/** The unit-scale spec: no scaling, the element format applied to the values directly. */
export const UNIT_SCALE: ScaleSpec = Object.freeze({ granularity: "none", type: "f32", rule: "absmax" });

/** QuEST clip constant: 2.92247856/6 (MSE-optimal E2M1 clip on N(0,1), Quartet §4.3), as f32. */
export const QUEST_C: number = Math.fround(0.48707976);
/** QuEST epsilon added before the log2, as f32. */
export const QUEST_EPS: number = Math.fround(1e-8);
/** f32 mantissa bits of √2: a log2 fraction ≥ 0.5 means mantissa bits ≥ this (rounds the exponent up). */
export const SQRT2_MANTISSA = 0x3504f3;

/** Throws a one-line error when the combination of options is not supported. */
export function validateSpec(spec: QuantSpec): void {
  const s = spec.scale;
  const g = s.granularity;
  if (!["none", "tensor", "row", "col", "block"].includes(g)) throw new Error(`unknown granularity "${g}"`);
  if (g === "block") {
    const b = s.block ?? 0;
    if (!(b >= 2 && b <= 256 && (b & (b - 1)) === 0)) {
      throw new Error(`block size ${b} is not a power of two in 2..256`);
    }
  }
  if ((s.rule === "ocp" || s.rule === "quest" || s.rule === "quest-round") && s.type !== "e8m0") {
    throw new Error(`scale rule ${s.rule} gives powers of two: use scale type e8m0`);
  }
  if (s.tensorScale && !(s.type === "e4m3" && s.rule === "absmax")) {
    throw new Error("two-level (tensor) scaling needs e4m3 block scales with the absmax rule");
  }
  if (spec.hadamard && !HADAMARD_SIZES.includes(spec.hadamard.size)) {
    throw new Error(`hadamard size ${spec.hadamard.size} not in ${HADAMARD_SIZES.join("/")}`);
  }
}

/** Statistics of one group of values; non-finite values are skipped (scales come from finite values only). */
export interface GroupStats {
  /** max |v| over finite v (0 when none). */
  amax: number;
  /** Σv and Σv² over finite v in element order, accumulated in f32. */
  sum: number;
  /** Σv² over finite v (each square rounded to f32, then added). */
  sumsq: number;
}

/** Accumulates GroupStats in the order the WGSL loop does (f32 at every step). */
export function groupStats(values: ArrayLike<number>, idx: (j: number) => number, n: number): GroupStats {
  let amax = 0, sum = 0, sumsq = 0;
  for (let j = 0; j < n; j++) {
    const v = values[idx(j)];
    const b = f32Bits(v);
    if ((b & 0x7f800000) === 0x7f800000) continue;
    const a = f32FromBits(b & 0x7fffffff);
    if (a > amax) amax = a;
    sum = Math.fround(sum + v);
    sumsq = Math.fround(sumsq + Math.fround(v * v));
  }
  return { amax, sum, sumsq };
}

/** E4M3 value of a positive scale (RNE, saturating at 448): the FP8 scale cast. */
export function e4m3Scale(s: number): number {
  return quantizeElement(ELEMENTS.e4m3, s);
}

/** Clamps an exponent to E8M0's range [−127, 127] (0xFF, i.e. 128, is NaN: never produced). */
function clampE8(e: number): number {
  return Math.min(127, Math.max(-127, e));
}

/**
 * Power-of-two exponent of a group's scale for the E8M0 rules (ocp, quest, quest-round, absmax→ceil).
 * `invN` is 1/group length as f32 (exact for powers of two).
 */
export function e8m0Exponent(rule: ScaleRule, elem: ElementFormat, st: GroupStats, invN: number): number {
  if (rule === "ocp") return clampE8(floorLog2(st.amax) - elem.emax); // amax 0 → −127: all-zero block
  if (rule === "absmax") {
    const y = Math.fround(st.amax / elem.max);
    if (y === 0) return -127;
    const b = f32Bits(y);
    return clampE8(floorLog2(y) + ((b & 0x7fffff) !== 0 ? 1 : 0)); // ceil(log2 y)
  }
  const mean = Math.fround(st.sum * invN);
  const msq = Math.fround(st.sumsq * invN);
  const v = Math.fround(msq - Math.fround(mean * mean));
  const sigma = v < 0 ? 1 : Math.fround(Math.sqrt(v)); // Quartet fix 3910a1f: σ := 1 on negative variance
  const y = Math.fround(Math.fround(QUEST_C * sigma) + QUEST_EPS);
  let e = floorLog2(y);
  if (rule === "quest-round" && (f32Bits(y) & 0x7fffff) >= SQRT2_MANTISSA) e += 1;
  return clampE8(e);
}

/** A group's scale as used by the element step: u = x/s (f32, e4m3) or x·2^−e (e8m0). */
export interface GroupScale {
  /** Effective scale (NVFP4: fround(s_block · St)); 0 makes the group's outputs zero. */
  scale: number;
  /** The stored scale code: E8M0 byte (e + 127), E4M3 code, or the f32 bits. */
  code: number;
}

/** Computes one group's scale from its statistics. `tensorScale` is St (two-level) or 1. */
export function groupScale(spec: QuantSpec, st: GroupStats, invN: number, tensorScale: number): GroupScale {
  const s = spec.scale;
  const elem = spec.element;
  if (s.granularity === "none") return { scale: 1, code: f32Bits(1) };
  if (s.type === "e8m0") {
    const e = e8m0Exponent(s.rule, elem, st, invN);
    return { scale: pow2(e), code: e + 127 };
  }
  if (s.type === "f32") {
    const sc = Math.fround(st.amax / elem.max);
    return { scale: sc, code: f32Bits(sc) };
  }
  // E4M3 block scale, optionally under an f32 tensor scale (NVFP4: E4M3(amax_b/6/St)).
  let y = Math.fround(st.amax / elem.max);
  if (s.tensorScale) y = tensorScale === 0 ? 0 : Math.fround(y / tensorScale);
  const sb = e4m3Scale(y);
  return {
    scale: s.tensorScale ? Math.fround(sb * tensorScale) : sb,
    code: encodeElement(ELEMENTS.e4m3, sb),
  };
}

/** NVFP4 tensor scale St = amax_tensor/(448·elem.max) in f32 (0 for an all-zero tensor). */
export function tensorScaleOf(amax: number, elem: ElementFormat): number {
  return Math.fround(amax / Math.fround(448 * elem.max));
}

/**
 * Scales, rounds and dequantizes one value of a group: returns [dequantized, mask bit, rounded element q].
 * Power-of-two scales multiply by the exact reciprocal (equal to a correctly rounded division).
 */
export function quantizeScaled(
  spec: QuantSpec,
  x: number,
  sc: GroupScale,
  u: number,
): [number, boolean, number] {
  const elem = spec.element;
  const bits = f32Bits(x);
  let y: number;
  if (isNaNBits(bits)) y = NaN;
  else if (spec.scale.granularity === "none") y = x;
  else if (sc.scale === 0) y = copySign(0, x);
  else if (spec.scale.type === "e8m0") y = Math.fround(x * pow2(127 - sc.code));
  else y = Math.fround(x / sc.scale);
  const q = quantizeElement(elem, y, u);
  const a = f32FromBits(f32Bits(y) & 0x7fffffff);
  const quest = spec.scale.rule === "quest" || spec.scale.rule === "quest-round";
  const mask = quest ? a < elem.max : a <= elem.max; // NaN → false
  const deq = spec.scale.granularity === "none" ? q : Math.fround(q * sc.scale);
  return [deq, mask, q];
}

/** Shape and group geometry of a [rows, cols] tensor under a ScaleSpec. */
export interface Groups {
  /** Rows of the tensor. */
  rows: number;
  /** Columns of the tensor (the last, contiguous axis). */
  cols: number;
  /** Number of groups (1 for none/tensor). */
  count: number;
  /** Elements per group. */
  len: number;
  /** Flat index of element j of group g. */
  index(g: number, j: number): number;
}

/** Group geometry; throws a one-line error when the shape does not divide into blocks. */
export function groupsOf(scale: ScaleSpec, rows: number, cols: number): Groups {
  const n = rows * cols;
  switch (scale.granularity) {
    case "none":
    case "tensor":
      return { rows, cols, count: 1, len: n, index: (_g, j) => j };
    case "row":
      return { rows, cols, count: rows, len: cols, index: (g, j) => g * cols + j };
    case "col":
      return { rows, cols, count: cols, len: rows, index: (g, j) => j * cols + g };
    case "block": {
      const b = scale.block!;
      if ((scale.axis ?? 1) === 1) {
        if (cols % b !== 0) throw new Error(`row length ${cols} is not a multiple of the block ${b}`);
        return { rows, cols, count: n / b, len: b, index: (g, j) => g * b + j };
      }
      if (rows % b !== 0) throw new Error(`column length ${rows} is not a multiple of the block ${b}`);
      const per = cols;
      return {
        rows,
        cols,
        count: n / b,
        len: b,
        index: (g, j) => (Math.floor(g / per) * b + j) * cols + (g % per),
      };
    }
  }
}

/** Result of quantizing one operand. */
export interface QuantResult {
  /** Dequantized values (rotated back when a Hadamard transform was applied and rotateBack is true). */
  values: Float32Array;
  /** Element bit codes of the rounded values (NAN_CODE for NaN in formats without NaN). */
  codes: Uint32Array;
  /** Effective scale per group (1 for unit scale). */
  scales: Float32Array;
  /** Stored scale code per group (E8M0 byte, E4M3 code, or f32 bits). */
  scaleCodes: Uint32Array;
  /** Two-level tensor scale St (1 when not used). */
  tensorScale: number;
  /** 1 where the scaled value lies inside the grid (not clipped; QuEST: |x/s| < max), else 0. */
  mask: Uint8Array;
}

/** Options of quantizeTensor. */
export interface TensorOptions {
  /** Shape; default one row of x.length. */
  rows?: number;
  /** Row length (last axis); default x.length. */
  cols?: number;
  /** Rotate the dequantized values back to the original basis (default true). */
  rotateBack?: boolean;
}

/** TS reference of the full operand pipeline (see the module comment). */
export function quantizeTensor(x: Float32Array, spec: QuantSpec, opts: TensorOptions = {}): QuantResult {
  validateSpec(spec);
  const cols = opts.cols ?? x.length;
  const rows = opts.rows ?? (cols === 0 ? 0 : x.length / cols);
  if (rows * cols !== x.length || !Number.isInteger(rows)) {
    throw new Error(`shape ${rows}×${cols} does not match length ${x.length}`);
  }
  const signs = spec.hadamard ? hadamardSigns(spec.hadamard.size, spec.hadamard.signSeed) : undefined;
  if (spec.hadamard && cols % spec.hadamard.size !== 0) {
    throw new Error(`row length ${cols} is not a multiple of the hadamard block ${spec.hadamard.size}`);
  }
  const v = spec.hadamard ? hadamardForward(x, spec.hadamard.size, signs) : x;
  const grp = groupsOf(spec.scale, rows, cols);
  let tscale = 1;
  if (spec.scale.tensorScale) tscale = tensorScaleOf(groupStats(v, (j) => j, v.length).amax, spec.element);
  const invN = Math.fround(1 / grp.len);
  const out = new Float32Array(x.length);
  const codes = new Uint32Array(x.length);
  const mask = new Uint8Array(x.length);
  const scales = new Float32Array(grp.count);
  const scaleCodes = new Uint32Array(grp.count);
  const sr = spec.rounding === "stochastic";
  const seed = spec.seed ?? 0, off = spec.counterOffset ?? 0;
  for (let g = 0; g < grp.count; g++) {
    const idx = (j: number) => grp.index(g, j);
    const st = spec.scale.granularity === "none"
      ? { amax: 0, sum: 0, sumsq: 0 }
      : groupStats(v, idx, grp.len);
    const sc = groupScale(spec, st, invN, tscale);
    scales[g] = sc.scale;
    scaleCodes[g] = sc.code;
    for (let j = 0; j < grp.len; j++) {
      const i = idx(j);
      const u = sr ? rngUniform(seed, (off + i) >>> 0) : -1;
      const [d, m, q] = quantizeScaled(spec, v[i], sc, u);
      out[i] = d;
      mask[i] = m ? 1 : 0;
      codes[i] = encodeElement(spec.element, q);
    }
  }
  const values = spec.hadamard && (opts.rotateBack ?? true)
    ? hadamardInverse(out, spec.hadamard.size, signs)
    : out;
  return { values, codes, scales, scaleCodes, tensorScale: tscale, mask };
}
