/**
 * Bit-level f32 helpers shared by the TS reference quantizers. Every operation here has an exact
 * WGSL twin (bitcast, integer ops, correctly rounded + − × ÷), so TS and WGSL agree bit for bit.
 * @module
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE-754 bit pattern of `x` rounded to f32. */
export function f32Bits(x: number): number {
  f32[0] = x;
  return u32[0];
}

/** The f32 whose bit pattern is `bits` (as a JS number). */
export function f32FromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0];
}

/** Exact 2^e as f32 for integer e in [−149, 127] (subnormal powers included). */
export function pow2(e: number): number {
  if (e >= -126) return f32FromBits((e + 127) << 23);
  return f32FromBits(1 << (e + 149));
}

/**
 * floor(log2 |x|) read from the exponent field: exact for normal f32. Returns −127 for zero and for
 * f32 subnormals (callers clamp it to the format's minimum exponent, where both behave like zero).
 */
export function floorLog2(x: number): number {
  return ((f32Bits(x) >>> 23) & 0xff) - 127;
}

/** True when the f32 bit pattern is a NaN (bit test: WGSL compilers may fold `x != x`). */
export function isNaNBits(bits: number): boolean {
  return (bits & 0x7fffffff) > 0x7f800000;
}

/** True when the f32 bit pattern is ±Inf. */
export function isInfBits(bits: number): boolean {
  return (bits & 0x7fffffff) === 0x7f800000;
}

/** Round half to even of y ≥ 0 (y < 2^24 so that floor and the difference are exact in f32). */
export function rne(y: number): number {
  const fl = Math.floor(y);
  const d = y - fl;
  return d > 0.5 || (d === 0.5 && fl % 2 === 1) ? fl + 1 : fl;
}

/** Stochastic rounding of y ≥ 0 with a uniform u in [0, 1): rounds up with probability frac(y). */
export function sround(y: number, u: number): number {
  const fl = Math.floor(y);
  return u < y - fl ? fl + 1 : fl;
}

/** |x| with the sign bit of `s` (copysign on bits, so −0 and NaN payloads are kept). */
export function copySign(x: number, s: number): number {
  return f32FromBits((f32Bits(x) & 0x7fffffff) | (f32Bits(s) & 0x80000000));
}

/** An exact f32 constant for WGSL source, written through its bit pattern (no decimal parsing doubts). */
export function wgslF32(x: number): string {
  return `bitcast<f32>(0x${f32Bits(x).toString(16)}u)`;
}

/** Shortest decimal string that reads back to the same f32 (used by the CLI output too). */
export function shortestF32(x: number): string {
  const v = Math.fround(x);
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}
