/**
 * Element formats defined once, as data (in the spirit of microsoft/microxcaling `mx/formats.py`).
 * The TS reference (`quantize.ts`) and the WGSL generator (`kernels/formats/wgsl.ts`) both read
 * these records; nothing else about a format is hard-coded anywhere.
 * @module
 */

/** One element (scalar) number format. */
export interface ElementFormat {
  /** Registry name, e.g. "e2m1", "int8", "bf16", or "e2m1_b1.37" for a generic real-bias format. */
  name: string;
  /** "float": sign + exponent + mantissa; "int": symmetric two's-complement integer grid. */
  kind: "float" | "int";
  /** Storage bits per element (codes). */
  bits: number;
  /** Exponent bits (0 for ints). */
  expBits: number;
  /** Mantissa bits (bits − 1 for ints: value step is 1). */
  manBits: number;
  /** Exponent bias; may be real-valued (LLM-FP4). Integer formats: 0. */
  bias: number;
  /** Largest finite magnitude (reserved codes taken into account: E4M3 448, E5M2 57344). */
  max: number;
  /** Unbiased exponent of the largest normal: the `emax_elem` of the OCP MX scale rule. */
  emax: number;
  /** Unbiased exponent of the smallest normal (1 − bias for floats). */
  emin: number;
  /** Smallest positive normal value (floats). */
  minNormal: number;
  /** Smallest positive subnormal value (equals minNormal when manBits = 0: no subnormals). */
  minSubnormal: number;
  /** Whether ±Inf exist (E5M2, FP16, BF16). */
  hasInf: boolean;
  /** Whether a NaN encoding exists. */
  hasNaN: boolean;
  /** IEEE overflow: finite values beyond max round to ±Inf (FP16, BF16). Otherwise they saturate. */
  ieeeOverflow: boolean;
}

/** Options of the generic ExMy constructor. */
export interface MinifloatOptions {
  /** Exponent bias, real-valued allowed; default 2^(e−1) − 1. */
  bias?: number;
  /** Override the largest finite value (reserved codes); default the formula (2 − 2^−m)·2^(2^e − 1 − bias). */
  max?: number;
  /** Name; default `e{e}m{m}` plus `_b{bias}` when the bias is not the default. */
  name?: string;
  /** Whether ±Inf codes exist (default false). */
  hasInf?: boolean;
  /** Whether a NaN code exists (default false). */
  hasNaN?: boolean;
  /** IEEE overflow to ±Inf instead of saturation (default false). */
  ieeeOverflow?: boolean;
}

/**
 * Generic ExMy minifloat (fp4-methods.md §0.1): sign bit, e exponent bits, m mantissa bits, bias b,
 * subnormals in the lowest binade, and by default no Inf/NaN codes (every code finite).
 */
export function minifloat(expBits: number, manBits: number, opts: MinifloatOptions = {}): ElementFormat {
  if (!Number.isInteger(expBits) || expBits < 1 || expBits > 8) {
    throw new Error(`minifloat: bad exponent bits ${expBits}`);
  }
  if (!Number.isInteger(manBits) || manBits < 0 || manBits > 10) {
    throw new Error(`minifloat: bad mantissa bits ${manBits}`);
  }
  const defBias = 2 ** (expBits - 1) - 1;
  const bias = opts.bias ?? defBias;
  if (!Number.isFinite(bias)) throw new Error(`minifloat: bad bias ${bias}`);
  const max = opts.max ?? (2 - 2 ** -manBits) * 2 ** (2 ** expBits - 1 - bias);
  const emin = 1 - bias;
  const name = opts.name ?? `e${expBits}m${manBits}${bias === defBias ? "" : `_b${bias}`}`;
  return {
    name,
    kind: "float",
    bits: 1 + expBits + manBits,
    expBits,
    manBits,
    bias,
    max: Math.fround(max),
    emax: Math.floor(Math.log2(max)),
    emin,
    minNormal: 2 ** emin,
    minSubnormal: 2 ** (emin - manBits),
    hasInf: opts.hasInf ?? false,
    hasNaN: opts.hasNaN ?? false,
    ieeeOverflow: opts.ieeeOverflow ?? false,
  };
}

/** Symmetric integer format with codes −max..max in `bits`-bit two's complement (−2^(bits−1) unused). */
export function intFormat(bits: number): ElementFormat {
  const max = 2 ** (bits - 1) - 1;
  return {
    name: `int${bits}`,
    kind: "int",
    bits,
    expBits: 0,
    manBits: bits - 1,
    bias: 0,
    max,
    emax: Math.floor(Math.log2(max)),
    emin: 0,
    minNormal: 1,
    minSubnormal: 1,
    hasInf: false,
    hasNaN: false,
    ieeeOverflow: false,
  };
}

/** The built-in element formats, keyed by name (a null-prototype object: `constructor` is no format). */
export const ELEMENTS: Readonly<Record<string, ElementFormat>> = Object.freeze(
  Object.assign(Object.create(null), {
    e2m1: minifloat(2, 1),
    e1m2: minifloat(1, 2, { bias: 1, name: "e1m2" }),
    e3m0: minifloat(3, 0),
    e2m3: minifloat(2, 3),
    e3m2: minifloat(3, 2),
    // OCP E4M3 ("fn"): S.1111.111 is NaN, so the top code is 448, not the formula's 480; no Inf.
    e4m3: minifloat(4, 3, { max: 448, hasNaN: true }),
    // OCP E5M2: IEEE-like top binade (Inf/NaN), max 57344; finite overflow saturates (MX conversion rule).
    e5m2: minifloat(5, 2, { max: 57344, hasInf: true, hasNaN: true }),
    int4: intFormat(4),
    int8: intFormat(8),
    fp16: minifloat(5, 10, { max: 65504, hasInf: true, hasNaN: true, ieeeOverflow: true, name: "fp16" }),
    bf16: minifloat(8, 7, {
      max: (2 - 2 ** -7) * 2 ** 127,
      hasInf: true,
      hasNaN: true,
      ieeeOverflow: true,
      name: "bf16",
    }),
  }),
);

/** Looks up a built-in element format by name; throws a one-line error naming the choices. */
export function elementFormat(name: string): ElementFormat {
  const f = ELEMENTS[name.toLowerCase()];
  if (!f) {
    throw new Error(`unknown element format "${name}"; choose one of: ${Object.keys(ELEMENTS).join(", ")}`);
  }
  return f;
}

/**
 * Bias that makes an ExMy format's largest value equal `maxval` (fp4-methods.md §0.1, inverse formula):
 * b = 2^e − log2(maxval) + log2(2 − 2^−m) − 1.
 */
export function biasForMax(expBits: number, manBits: number, maxval: number): number {
  return 2 ** expBits - Math.log2(maxval) + Math.log2(2 - 2 ** -manBits) - 1;
}

/**
 * All distinct finite values of the format, ascending, as f32 numbers (±0 merged into 0).
 * Enumerated from the bit codes through `decodeElement`, so it checks the codec too.
 */
export function enumerateGrid(
  fmt: ElementFormat,
  decode: (fmt: ElementFormat, code: number) => number,
): number[] {
  const set = new Set<number>();
  for (let c = 0; c < 2 ** fmt.bits; c++) {
    const v = decode(fmt, c);
    if (Number.isFinite(v)) set.add(v === 0 ? 0 : v);
  }
  return [...set].sort((a, b) => a - b);
}
