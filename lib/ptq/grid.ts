/**
 * Element formats as value grids for post-training quantization. Every format comes from lib/formats (the
 * project's single definition: `ELEMENTS`, `minifloat`, `intFormat`), enumerated through its bit-code codec;
 * a scaled quantizer is then `s · Q(x / s)`, where Q rounds to the nearest grid value (ties to the even code,
 * i.e. round-half-to-even as in fp4-methods.md §0.1) and saturates at the format's largest value. A real
 * exponent bias b of LLM-FP4 is the same quantizer with `s = maxval(b) / max` (§0.1: both forms are equal).
 * @module
 */
import {
  biasForMax,
  decodeElement,
  type ElementFormat,
  ELEMENTS,
  enumerateGrid,
  intFormat,
  minifloat,
} from "../formats/mod.ts";

/** A format's non-negative grid values plus the rounding thresholds between them. */
export interface Grid {
  /** Format name (e2m1, e3m4, int4, …). */
  name: string;
  /** The lib/formats record. */
  fmt: ElementFormat;
  /** Non-negative grid values, ascending, starting at 0. */
  pos: Float64Array;
  /** Largest value. */
  max: number;
}

const grids = new Map<string, Grid>();

/** The element format of a name: a lib/formats built-in, or `eXmY` / `intN` built by its constructors. */
export function formatOf(name: string): ElementFormat {
  const key = name.toLowerCase();
  if (ELEMENTS[key]) return ELEMENTS[key];
  const fm = /^e([1-8])m([0-9])$/.exec(key);
  if (fm) return minifloat(Number(fm[1]), Number(fm[2]));
  const im = /^int([2-9])$/.exec(key);
  if (im) return intFormat(Number(im[1]));
  throw new Error(`unknown element format "${name}" (use a lib/formats name, eXmY or intN)`);
}

/** The grid of a format name (cached). */
export function gridOf(name: string): Grid {
  let g = grids.get(name);
  if (g) return g;
  const fmt = formatOf(name);
  const all = enumerateGrid(fmt, decodeElement).filter((v) => v >= 0);
  g = { name, fmt, pos: Float64Array.from(all), max: all[all.length - 1] };
  grids.set(name, g);
  return g;
}

/** Index of the grid value nearest to |u| (u already scaled), ties to the even index (= even code). */
function nearestIndex(pos: Float64Array, a: number): number {
  const n = pos.length;
  if (a >= pos[n - 1]) return n - 1;
  let lo = 0, hi = n - 1; // pos[lo] <= a < pos[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (pos[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dl = a - pos[lo], dh = pos[hi] - a;
  if (dl < dh) return lo;
  if (dh < dl) return hi;
  return lo % 2 === 0 ? lo : hi;
}

/** Rounds an already-scaled value to the grid (saturating, RNE); NaN stays NaN. */
export function roundToGrid(g: Grid, u: number): number {
  if (Number.isNaN(u)) return NaN;
  const q = g.pos[nearestIndex(g.pos, Math.abs(u))];
  return u < 0 ? -q : q;
}

/** `s · Q(x / s)`; a zero or non-finite scale gives 0. */
export function quantScaled(g: Grid, x: number, s: number): number {
  if (!(s > 0) || !Number.isFinite(s)) return 0;
  return s * roundToGrid(g, x / s);
}

/** Whether `v` is a grid value (sign allowed). */
export function onGrid(g: Grid, v: number): boolean {
  const a = Math.abs(v);
  return g.pos[nearestIndex(g.pos, a)] === a;
}

/**
 * The FP floor/ceil pair of a scaled value (AdaRound): the largest grid value ≤ u, the next one above, and
 * u's fractional position between them (`rest` ∈ [0, 1)). At ±max both ends are max and rest is 0.
 */
export function gridBracket(g: Grid, u: number): { lo: number; hi: number; rest: number } {
  const c = Math.max(-g.max, Math.min(g.max, u));
  const a = Math.abs(c);
  const pos = g.pos, n = pos.length;
  let i = 0;
  if (a >= pos[n - 1]) i = n - 1;
  else {
    let lo = 0, hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (pos[mid] <= a) lo = mid;
      else hi = mid;
    }
    i = lo;
  }
  if (c >= 0) {
    if (i === n - 1) return { lo: pos[i], hi: pos[i], rest: 0 };
    return { lo: pos[i], hi: pos[i + 1], rest: (c - pos[i]) / (pos[i + 1] - pos[i]) };
  }
  // negative: −pos[i+1] ≤ c < −pos[i] unless c is exactly −pos[i]
  if (a === pos[i]) {
    if (i === n - 1) return { lo: -pos[i], hi: -pos[i], rest: 0 };
    return { lo: -pos[i], hi: i === 0 ? pos[1] : -pos[i - 1], rest: 0 };
  }
  return { lo: -pos[i + 1], hi: -pos[i], rest: (c + pos[i + 1]) / (pos[i + 1] - pos[i]) };
}

/** Exponent and mantissa bits of a float format name (for the LLM-FP4 bias formulas). */
export function expMan(g: Grid): { e: number; m: number } {
  return { e: g.fmt.expBits, m: g.fmt.manBits };
}

/** LLM-FP4's bias for a maximum value (§0.1 inverse formula, lib/formats `biasForMax`). */
export function biasFor(g: Grid, maxval: number): number {
  const { e, m } = expMan(g);
  return biasForMax(e, m, maxval);
}

/** The scale s (x ≈ s·Q(x/s)) of a real exponent bias b: s = maxval(b)/max, maxval(b) = (2−2^−m)·2^(2^e−1−b). */
export function scaleForBias(g: Grid, b: number): number {
  const { e, m } = expMan(g);
  return ((2 - 2 ** -m) * 2 ** (2 ** e - 1 - b)) / g.max;
}

/** The FP formats of a bit width searched by LLM-FP4 and HQ-DiT: m ∈ {0,1,2} at 4 bits, {1..4} at 6, {2..6} at 8. */
export function fpCandidates(bits: number): string[] {
  const ms = bits === 4 ? [0, 1, 2] : bits === 6 ? [1, 2, 3, 4] : bits === 8 ? [2, 3, 4, 5, 6] : [];
  if (!ms.length) throw new Error(`no FP candidates for ${bits} bits`);
  return ms.map((m) => `e${bits - 1 - m}m${m}`);
}
