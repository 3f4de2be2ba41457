/**
 * Deterministic inputs for the format tests, the showcase and the benchmark.
 * @module
 */
import type { ElementFormat } from "./elements.ts";
import { decodeElement } from "./quantize.ts";
import { enumerateGrid } from "./elements.ts";
import { f32FromBits } from "./f32.ts";
import { rngU32, rngUniform } from "./rng.ts";

/** Edge cases: ±0, f32 subnormals, ±Inf, NaN, f32 max, and around the format's max and min subnormal. */
export function edgeCases(fmt?: ElementFormat): number[] {
  const e = [
    0,
    -0,
    1e-45,
    -1e-45,
    1e-40,
    -3e-39,
    2 ** -126,
    f32FromBits(0x007fffff),
    Infinity,
    -Infinity,
    NaN,
    -NaN,
  ];
  e.push(3.4028234663852886e38, -3.4028234663852886e38, 1, -1, 0.5, 1e-30, 1e30);
  if (fmt) {
    const m = fmt.max, s = fmt.minSubnormal;
    e.push(m, -m, m * 1.0000001, m * 1.01, m * 2, -m * 4, s, s / 2, -s / 2, s * 0.75, s * 1.5, s / 4);
    if (fmt.kind === "float" && fmt.bits <= 8) {
      // every exact midpoint between adjacent grid values (ties), both signs
      const g = enumerateGrid(fmt, decodeElement).filter((v) => v >= 0);
      for (let i = 0; i + 1 < g.length; i++) e.push((g[i] + g[i + 1]) / 2, -(g[i] + g[i + 1]) / 2);
    }
  }
  return e;
}

/** Standard normal from two counter-based uniforms (Box–Muller). */
export function gauss(seed: number, i: number): number {
  const u1 = rngUniform(seed, 2 * i) + 2 ** -25, u2 = rngUniform(seed, 2 * i + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * n test values: edge cases first, then a mix of random f32 bit patterns, values spread over the
 * format's range, exact grid midpoints, and Gaussians whose scale changes every 32 values.
 */
export function mixedValues(n: number, seed: number, fmt?: ElementFormat): Float32Array {
  const x = new Float32Array(n);
  const edges = edgeCases(fmt);
  const grid = fmt && fmt.kind === "float" && fmt.bits <= 8 ? enumerateGrid(fmt, decodeElement) : undefined;
  const max = fmt?.max ?? 1;
  for (let i = 0; i < n; i++) {
    if (i < edges.length) {
      x[i] = edges[i];
      continue;
    }
    const kind = rngU32(seed ^ 0x55, i) & 3;
    if (kind === 0) x[i] = f32FromBits(rngU32(seed, i));
    else if (kind === 1) x[i] = (rngUniform(seed + 1, i) * 2 - 1) * max * 2 ** -(rngU32(seed + 2, i) % 30);
    else if (kind === 2 && grid) {
      const k = rngU32(seed + 3, i) % (grid.length - 1);
      x[i] = (grid[k] + grid[k + 1]) / 2;
    } else x[i] = gauss(seed + 4, i) * 2 ** ((rngU32(seed + 5, i >> 5) % 40) - 20);
  }
  return x;
}

/** Indices where two f32 arrays differ in bits (NaNs of any payload count as equal). */
export function bitDiffs(a: Float32Array, b: Float32Array, limit = 5): number[] {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length),
    ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const out: number[] = [];
  for (let i = 0; i < a.length && out.length < limit; i++) {
    if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) out.push(i);
  }
  return out;
}
