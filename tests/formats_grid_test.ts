/**
 * Element formats: enumerated grids equal the tables of fp4-methods.md §0.2, codes round-trip,
 * RNE equals an independent brute-force nearest-grid search, FP16 equals Math.f16round, special-value
 * rules, packing round trips, RNG stream stability.
 */
import assert from "node:assert/strict";
import {
  biasForMax,
  type ElementFormat,
  ELEMENTS,
  enumerateGrid,
  minifloat,
} from "../lib/formats/elements.ts";
import { decodeElement, encodeElement, quantizeElement } from "../lib/formats/quantize.ts";
import { packE8M0, packNibbles, unpackE8M0, unpackNibbles } from "../lib/formats/packing.ts";
import { rngU32, rngUniform } from "../lib/formats/rng.ts";
import { f32Bits } from "../lib/formats/f32.ts";
import { gauss, mixedValues } from "../lib/formats/testdata.ts";

/** Non-negative grid built from the table's description: steps per interval. */
function steps(parts: [number, number, number][]): number[] {
  const out = new Set<number>([0]);
  for (const [lo, hi, st] of parts) for (let v = lo; v <= hi + 1e-12; v += st) out.add(Math.fround(v));
  return [...out].sort((a, b) => a - b);
}
const sym = (pos: number[]) => [...pos.filter((v) => v > 0).map((v) => -v).reverse(), ...pos];

// Tables of fp4-methods.md §0.2 (max, min normal, min subnormal, grid).
const TABLE: Record<
  string,
  { max: number; minNormal?: number; minSub?: number; grid?: number[]; count?: number }
> = {
  e2m1: { max: 6, minNormal: 1, minSub: 0.5, grid: [0, 0.5, 1, 1.5, 2, 3, 4, 6] },
  e1m2: { max: 1.75, minNormal: 1, minSub: 0.25, grid: [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75] },
  e3m0: { max: 16, minNormal: 0.25, grid: [0, 0.25, 0.5, 1, 2, 4, 8, 16] },
  e2m3: { max: 7.5, minNormal: 1, minSub: 0.125, grid: steps([[0, 2, 0.125], [2, 4, 0.25], [4, 7.5, 0.5]]) },
  e3m2: {
    max: 28,
    minNormal: 0.25,
    minSub: 0.0625,
    grid: steps([[0, 0.5, 1 / 16], [0.5, 1, 1 / 8], [1, 2, 0.25], [2, 4, 0.5], [4, 8, 1], [8, 16, 2], [
      16,
      28,
      4,
    ]]),
  },
  e4m3: { max: 448, minNormal: 2 ** -6, minSub: 2 ** -9, count: 253 },
  e5m2: { max: 57344, minNormal: 2 ** -14, minSub: 2 ** -16, count: 247 },
  int4: { max: 7, grid: [0, 1, 2, 3, 4, 5, 6, 7] },
  int8: { max: 127, count: 255 },
};

for (const [name, t] of Object.entries(TABLE)) {
  Deno.test(`grid of ${name} equals the spec table`, () => {
    const f = ELEMENTS[name];
    const g = enumerateGrid(f, decodeElement);
    assert.equal(f.max, t.max);
    assert.equal(g[g.length - 1], t.max);
    assert.equal(g[0], -t.max);
    if (t.minNormal !== undefined) assert.equal(f.minNormal, t.minNormal);
    if (t.minSub !== undefined) {
      assert.equal(f.minSubnormal, t.minSub);
      assert.equal(g.find((v) => v > 0), t.minSub);
    }
    if (t.grid) assert.deepEqual(g, sym(t.grid));
    if (t.count) assert.equal(g.length, t.count);
  });
}

Deno.test("E2M1 codes (OCP S EE M) and nearest-value thresholds", () => {
  const f = ELEMENTS.e2m1;
  assert.equal(decodeElement(f, 0b0001), 0.5);
  assert.equal(decodeElement(f, 0b0010), 1);
  assert.equal(decodeElement(f, 0b0111), 6);
  assert.equal(decodeElement(f, 0b1111), -6);
  assert.ok(Object.is(decodeElement(f, 0b1000), -0));
  // exact ties go to the even code: 0.25→0, 0.75→1, 1.25→1, 1.75→2, 2.5→2, 3.5→4, 5→4
  const ties = [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5].map((x) => quantizeElement(f, x));
  assert.deepEqual(ties, [0, 1, 1, 2, 2, 4, 4]);
  const above = [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5].map((x) => quantizeElement(f, x * (1 + 2 ** -20)));
  assert.deepEqual(above, [0.5, 1, 1.5, 2, 3, 4, 6]);
  assert.deepEqual([7, 1e30, -1e30].map((x) => quantizeElement(f, x)), [6, 6, -6]);
});

/**
 * Independent oracle: nearest grid value by search, saturating. Ties go to the candidate that is an even
 * multiple of the step of x's binade (§0.1's q = step·RNE(x/step)); for m ≥ 1 that is the even code, for
 * E3M0 (no mantissa bit) it means ties round up in magnitude except between 0 and the smallest value.
 */
function bruteNearest(f: ElementFormat, grid: number[], x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.min(Math.abs(x), f.max);
  let best = 0, bd = Infinity;
  for (const g of grid) {
    if (g < 0) continue;
    const d = Math.abs(g - ax);
    if (d < bd) {
      best = g;
      bd = d;
    } else if (d === bd) {
      const lo = Math.min(g, best);
      const e = f.kind === "int" ? 0 : Math.max(lo === 0 ? f.emin : Math.floor(Math.log2(lo)), f.emin);
      const step = f.kind === "int" ? 1 : 2 ** (e - f.manBits);
      if ((g / step) % 2 === 0) best = g;
    }
  }
  return f.kind === "int" && best === 0 ? 0 : x < 0 || Object.is(x, -0) ? -best : best;
}

Deno.test("RNE equals a brute-force nearest-grid search (8-bit and smaller formats, 20k values each)", () => {
  for (const name of ["e2m1", "e1m2", "e3m0", "e2m3", "e3m2", "e4m3", "e5m2", "int4", "int8"]) {
    const f = ELEMENTS[name];
    const grid = enumerateGrid(f, decodeElement);
    const x = mixedValues(20000, 17, f);
    for (const v of x) {
      if (!Number.isFinite(v)) continue;
      const q = quantizeElement(f, v), b = bruteNearest(f, grid, v);
      if (!Object.is(q, b)) assert.fail(`${name}(${v}) = ${q}, brute force ${b}`);
    }
  }
});

Deno.test("FP16 equals Math.f16round on 2^18 values (IEEE overflow to Inf, subnormals)", () => {
  const x = mixedValues(1 << 18, 21, ELEMENTS.fp16);
  for (const v of x) {
    const q = quantizeElement(ELEMENTS.fp16, v), r = Math.f16round(v);
    if (!Object.is(q, r) && !(Number.isNaN(q) && Number.isNaN(r))) {
      assert.fail(`fp16(${v}) = ${q}, f16round ${r}`);
    }
  }
});

Deno.test("BF16 is RNE to 8 significant bits with IEEE overflow", () => {
  const f = ELEMENTS.bf16;
  assert.equal(quantizeElement(f, 1 + 2 ** -8), 1); // tie to even
  assert.equal(quantizeElement(f, 1 + 3 * 2 ** -8), 1 + 2 ** -6); // tie to even (up)
  assert.equal(quantizeElement(f, 3.4e38), Infinity);
  assert.equal(quantizeElement(f, -3.4e38), -Infinity);
  assert.equal(quantizeElement(f, 1e-40), Math.fround(9.183549615799121e-41)); // f32 subnormal kept
  for (let i = 0; i < 10000; i++) {
    const v = Math.fround(gauss(9, i) * 2 ** ((i % 200) - 100));
    const q = quantizeElement(f, v);
    assert.equal(f32Bits(q) & 0xffff, 0);
    assert.ok(Math.abs(q - v) <= Math.abs(v) * 2 ** -8, `${v} → ${q}`);
  }
});

Deno.test("special values: NaN stays NaN, Inf → ±max or ±Inf, over-max saturates, ±0 kept", () => {
  for (const f of Object.values(ELEMENTS)) {
    assert.ok(Number.isNaN(quantizeElement(f, NaN)), f.name);
    const inf = quantizeElement(f, Infinity), ninf = quantizeElement(f, -Infinity);
    if (f.hasInf) assert.deepEqual([inf, ninf], [Infinity, -Infinity], f.name);
    else assert.deepEqual([inf, ninf], [f.max, -f.max], f.name);
    const over = quantizeElement(f, f.max * 4);
    assert.equal(over, f.ieeeOverflow ? Infinity : f.max, f.name);
    assert.equal(quantizeElement(f, f.max), f.max, f.name);
    assert.ok(Object.is(quantizeElement(f, 0), 0), f.name);
    if (f.kind === "float") assert.ok(Object.is(quantizeElement(f, -0), -0), f.name);
    for (const s of [1e-45, -1e-40]) {
      const q = quantizeElement(f, s);
      if (f.name !== "bf16") assert.equal(Math.abs(q), 0, `${f.name}(${s})`);
    }
  }
});

Deno.test("every code decodes and re-encodes to itself", () => {
  for (const f of Object.values(ELEMENTS)) {
    for (let c = 0; c < 2 ** Math.min(f.bits, 16); c++) {
      const v = decodeElement(f, c);
      if (Number.isNaN(v)) continue;
      if (f.kind === "float" && v === 0 && c !== 0 && c !== 1 << (f.bits - 1)) continue;
      assert.equal(quantizeElement(f, v), v, `${f.name} code ${c}`);
      assert.equal(encodeElement(f, v), c, `${f.name} value ${v}`);
    }
  }
});

Deno.test("generic ExMy with a real-valued bias: max from the bias formula, grid shape kept", () => {
  const b = biasForMax(2, 1, 3.3);
  const f = minifloat(2, 1, { bias: b });
  const g = enumerateGrid(f, decodeElement).filter((v) => v >= 0);
  assert.equal(g.length, 8);
  assert.ok(Math.abs(g[7] - 3.3) < 1e-6);
  // same ratios as E2M1 (0, .5, 1, 1.5, 2, 3, 4, 6)/6 · max
  const e2 = [0, 0.5, 1, 1.5, 2, 3, 4, 6];
  g.forEach((v, i) => assert.ok(Math.abs(v - (e2[i] / 6) * 3.3) < 1e-6, `${v}`));
  // integer bias given explicitly is the standard format
  assert.deepEqual(
    enumerateGrid(minifloat(2, 1, { bias: 1 }), decodeElement),
    enumerateGrid(ELEMENTS.e2m1, decodeElement),
  );
});

Deno.test("packing: E2M1 nibbles 8 per u32 and E8M0 bytes round-trip", () => {
  const codes = Array.from({ length: 37 }, (_, i) => rngU32(1, i) & 0xf);
  const words = packNibbles(codes);
  assert.equal(words.length, 5);
  assert.deepEqual(Array.from(unpackNibbles(words, 37)), codes);
  assert.equal(packNibbles([1, 2, 3, 4, 5, 6, 7, 8])[0], 0x87654321);
  const scales = Float32Array.from([2 ** -127, 2 ** -126, 0.5, 1, 2, 2 ** 127]);
  const bytes = packE8M0(scales);
  assert.deepEqual(Array.from(bytes), [0, 1, 126, 127, 128, 254]);
  assert.deepEqual(unpackE8M0(bytes), scales);
  assert.throws(() => packE8M0([3]));
});

Deno.test("RNG: stream pinned (TS = WGSL is checked in the GPU tests), uniform in [0,1)", () => {
  const pinned = [rngU32(42, 0), rngU32(42, 1), rngU32(7, 0)];
  assert.deepEqual(pinned, PINNED);
  let s = 0;
  for (let i = 0; i < 100000; i++) {
    const u = rngUniform(3, i);
    assert.ok(u >= 0 && u < 1);
    s += u;
  }
  assert.ok(Math.abs(s / 100000 - 0.5) < 0.005);
});
const PINNED = [4060075222, 1634618265, 2069213549];
