/**
 * TS reference of the element quantizers: round-to-nearest-even or stochastic rounding of one f32 to
 * an element format, plus the bit-code codec. Every step is an f32 operation with an exact WGSL twin
 * (see kernels/formats/wgsl.ts), so GPU results equal these bit for bit.
 *
 * Rules: NaN stays NaN; finite values beyond max saturate to ±max, except FP16/BF16 (IEEE: overflow to
 * ±Inf); ±Inf stays ±Inf where the format has Inf (E5M2, FP16, BF16) and becomes ±max elsewhere.
 * f32 subnormal inputs are kept as values (llvmpipe does not flush them; checked by the tests); they
 * round to ±0 in every format except BF16, which shares f32's exponent range and rounds them on bits.
 * @module
 */
import type { ElementFormat } from "./elements.ts";
import { copySign, f32Bits, f32FromBits, floorLog2, isInfBits, isNaNBits, pow2, rne, sround } from "./f32.ts";

/** Per-format constants derived once from the record (the WGSL generator uses the same values). */
export interface ElementPlan {
  /** The format these constants belong to. */
  fmt: ElementFormat;
  /** "int": step 1; "float": binade steps; "f32trunc": exponent range of f32 (BF16), rounding on bits. */
  path: "int" | "float" | "f32trunc";
  /** Integer part k of the bias; the quantizer runs at bias k and rescales by 2^(bias−k). */
  k: number;
  /** 2^(bias − k) as f32 (1 for integer biases), and its f32 reciprocal. */
  c: number;
  /** f32 reciprocal of c. */
  cinv: number;
  /** Largest magnitude at integer bias k (before the ·cinv rescale). */
  kmax: number;
  /** Minimum (normal) exponent at bias k. */
  emin: number;
  /** Values at or above 2^(emaxK+1) overflow to Inf immediately (IEEE formats). */
  emaxK: number;
}

const plans = new Map<ElementFormat, ElementPlan>();

/** The derived constants of a format (cached). */
export function elementPlan(fmt: ElementFormat): ElementPlan {
  let p = plans.get(fmt);
  if (p) return p;
  const k = Math.floor(fmt.bias);
  const frac = fmt.bias - k;
  const c = Math.fround(2 ** frac);
  const kmax = frac === 0 ? fmt.max : Math.fround((2 - 2 ** -fmt.manBits) * 2 ** (2 ** fmt.expBits - 1 - k));
  const path = fmt.kind === "int" ? "int" : fmt.expBits === 8 && fmt.bias === 127 ? "f32trunc" : "float";
  if (path === "float" && (fmt.manBits - (1 - k) > 126 || 1 - k - fmt.manBits < -126)) {
    throw new Error(`format ${fmt.name}: bias ${fmt.bias} puts its steps outside f32's normal range`);
  }
  p = {
    fmt,
    path,
    k,
    c,
    cinv: Math.fround(1 / c),
    kmax,
    emin: 1 - k,
    emaxK: Math.floor(Math.log2(kmax)),
  };
  plans.set(fmt, p);
  return p;
}

/**
 * Quantizes one value to `fmt` and returns the dequantized f32 value.
 * `u < 0` selects round-to-nearest-even; `u` in [0, 1) selects stochastic rounding with that uniform.
 */
export function quantizeElement(fmt: ElementFormat, x: number, u = -1): number {
  const p = elementPlan(fmt);
  x = Math.fround(x);
  const bits = f32Bits(x);
  if (isNaNBits(bits)) return NaN;
  if (p.path === "f32trunc") return roundF32Trunc(bits, 23 - fmt.manBits, u);
  if (isInfBits(bits)) return fmt.hasInf ? x : copySign(fmt.max, x);
  let ax = f32FromBits(bits & 0x7fffffff);
  if (p.path === "int") {
    ax = Math.min(ax, fmt.max);
    const r = u < 0 ? rne(ax) : sround(ax, u);
    // Integers have no −0: code 0 decodes to +0.
    return r === 0 ? 0 : copySign(r, x);
  }
  if (p.c !== 1) ax = Math.fround(ax * p.c);
  if (fmt.ieeeOverflow) {
    if (floorLog2(ax) > p.emaxK) return copySign(Infinity, x);
  } else {
    ax = Math.min(ax, p.kmax);
  }
  const e = Math.max(floorLog2(ax), p.emin);
  const y = Math.fround(ax * pow2(fmt.manBits - e)); // exact: power-of-two scaling of a normal f32
  const r = u < 0 ? rne(y) : sround(y, u);
  let q = Math.fround(r * pow2(e - fmt.manBits)); // exact: r has ≤ m+2 significant bits
  if (fmt.ieeeOverflow && q > p.kmax) q = Infinity;
  if (p.c !== 1) q = Math.fround(q * p.cinv);
  return copySign(q, x);
}

/**
 * Rounds an f32 bit pattern to `drop` fewer mantissa bits with integer arithmetic (BF16: drop = 16):
 * RNE adds 0x7fff + lsb; SR adds the top `drop` bits of the uniform. Carries overflow into Inf as in IEEE.
 */
function roundF32Trunc(bits: number, drop: number, u: number): number {
  const mask = (1 << drop) - 1;
  let r: number;
  if (u < 0) {
    r = bits + (mask >>> 1) + ((bits >>> drop) & 1);
  } else {
    r = bits + Math.floor(u * (1 << drop));
  }
  // Inf stays Inf: 0x7f800000 + (≤ 0xffff) keeps the exponent field all ones with zero high mantissa.
  if (isInfBits(bits)) return f32FromBits(bits);
  return f32FromBits((r >>> 0) & ~mask);
}

/** Bit code of a value already on the format's grid (the output of quantizeElement, unit scale). */
export function encodeElement(fmt: ElementFormat, q: number): number {
  const p = elementPlan(fmt);
  const bits = f32Bits(q);
  const sign = bits >>> 31;
  const n = fmt.bits;
  if (fmt.kind === "int") {
    if (isNaNBits(bits)) return NAN_CODE;
    return Math.round(q) & ((1 << n) - 1);
  }
  const sgn = sign << (n - 1);
  const m = fmt.manBits;
  const expAll = (1 << fmt.expBits) - 1;
  if (isNaNBits(bits)) {
    if (!fmt.hasNaN) return NAN_CODE;
    // Quiet NaN of IEEE-like formats; S.1111.111 (all ones) for OCP E4M3.
    return fmt.hasInf ? (expAll << m) | (1 << (m - 1)) : (1 << (n - 1)) - 1;
  }
  if (isInfBits(bits)) return sgn | (expAll << m);
  if (p.path === "f32trunc") return bits >>> (23 - m);
  let aq = f32FromBits(bits & 0x7fffffff);
  if (p.c !== 1) aq = requantK(p, aq);
  if (aq === 0) return sgn;
  const e = floorLog2(aq);
  if (e < p.emin) return sgn | Math.round(aq * 2 ** (m - p.emin)); // subnormal: exponent field 0
  return sgn | ((e - p.emin + 1) << m) | (Math.round(aq * 2 ** (m - e)) - (1 << m));
}

function requantK(p: ElementPlan, aq: number): number {
  // Real-bias formats: map back to the integer-bias-k grid (q·c may be off by an ulp from q·c exact).
  const y = Math.fround(aq * p.c);
  const e = Math.max(floorLog2(y), p.emin);
  return rne(Math.fround(y * pow2(p.fmt.manBits - e))) * pow2(e - p.fmt.manBits);
}

/** Code returned for NaN by formats without a NaN encoding (E2M1 etc.): not a valid code; packs as 0. */
export const NAN_CODE = 0xffffffff;

/** Value of a bit code (inverse of encodeElement; real-bias formats are rescaled by 2^−(bias−k)). */
export function decodeElement(fmt: ElementFormat, code: number): number {
  const p = elementPlan(fmt);
  const n = fmt.bits;
  if (fmt.kind === "int") {
    const v = code & (1 << (n - 1)) ? code - (1 << n) : code;
    return v < -fmt.max ? NaN : v; // −2^(n−1) is outside the symmetric grid
  }
  if (p.path === "f32trunc") return f32FromBits(code << (23 - fmt.manBits));
  const m = fmt.manBits;
  const sign = (code >>> (n - 1)) & 1 ? -1 : 1;
  const ef = (code >>> m) & ((1 << fmt.expBits) - 1);
  const mf = code & ((1 << m) - 1);
  const expAll = (1 << fmt.expBits) - 1;
  if (fmt.hasInf && ef === expAll) return mf === 0 ? sign * Infinity : NaN;
  if (fmt.hasNaN && !fmt.hasInf && ef === expAll && mf === (1 << m) - 1) return NaN; // E4M3 S.1111.111
  const mag = ef === 0 ? mf * 2 ** (p.emin - m) : (1 + mf / 2 ** m) * 2 ** (ef - 1 + p.emin);
  const v = p.c !== 1 ? Math.fround(Math.fround(mag) * p.cinv) : Math.fround(mag);
  return sign < 0 ? -v : v;
}
