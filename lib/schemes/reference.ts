/**
 * TS reference of the operand quantizers of a scheme: what the fused WGSL `prep()` of
 * kernels/schemes/prep.ts computes for one group of values along the GEMM's reduction axis, step for
 * step in f32, built on lib/formats (element rounding, scale rules, Hadamard, RNG). The tests compare
 * the GPU output with these functions bit for bit (DGE multipliers, which use pow(), to 1e-6).
 *
 * Pipeline of one group v[0..G): [OCC clamp, residual r] → [Hadamard (fixed or per-step signs)] →
 * per scale group: statistics → scale → [prescale] → round → dequantize [·1/prescale] [+ r]
 * → estimator multiplier g (1, trust mask, or DGE φ').
 * @module
 */
import { type ElementFormat, ELEMENTS, intFormat } from "../formats/elements.ts";
import { rne } from "../formats/f32.ts";
import { hadamardForward, hadamardInverse, hadamardSigns } from "../formats/hadamard.ts";
import { rngUniform } from "../formats/rng.ts";
import { groupScale, groupStats, quantizeScaled, type QuantSpec } from "../formats/scaling.ts";
import type { OperandQuant } from "./types.ts";

const f = Math.fround;

/** Element format of an operand ("int2".."int8" are built on demand; "centred" has none). */
export function elementOf(op: OperandQuant): ElementFormat {
  const e = ELEMENTS[op.element];
  if (e) return e;
  const m = /^int([2-8])$/.exec(op.element);
  if (m) return intFormat(Number(m[1]));
  throw new Error(`unknown element format "${op.element}"`);
}

/** The lib/formats spec of the scale + round step of an operand (not used for "centred"). */
export function formatSpec(op: OperandQuant): QuantSpec {
  const s = op.scale;
  return {
    element: elementOf(op),
    scale: s.granularity === "none"
      ? { granularity: "none", type: "f32", rule: "absmax" }
      : s.granularity === "row"
      ? { granularity: "row", type: s.type, rule: s.rule as QuantSpec["scale"]["rule"] }
      : {
        granularity: "block",
        block: s.block,
        axis: 1,
        type: s.type,
        rule: s.rule as QuantSpec["scale"]["rule"],
      },
    rounding: op.rounding,
  };
}

/** Hadamard size actually used on a reduction length: the largest power of two ≤ the asked size dividing it. */
export function hadamardSize(op: OperandQuant, len: number): number {
  if (!op.hadamard) return 0;
  let n = op.hadamard.size;
  while (n > 16 && len % n) n /= 2;
  if (len % n) throw new Error(`reduction length ${len} is not a multiple of a Hadamard block (≥ 16)`);
  return n;
}

/** Values per prep group for a reduction length `len` (the engine's OperandPrep.group). */
export function groupSize(op: OperandQuant, len: number): number {
  const g = op.scale.granularity;
  if (g === "row" || op.clip) return len;
  const b = g === "block" ? op.scale.block! : 1;
  return Math.max(b, hadamardSize(op, len), 1);
}

/** Values sharing one scale inside a group of G. */
export function scaleLen(op: OperandQuant, G: number): number {
  return op.scale.granularity === "block" ? op.scale.block! : G;
}

/** Order-statistic indices of the OCC clamp on a row of G: lo = sorted[iLo], hi = sorted[iHi]. */
export function occIndices(quantile: number, G: number): { iLo: number; iHi: number } {
  return { iLo: Math.floor((1 - quantile) * G), iHi: Math.floor(quantile * G) };
}

/** XOR-salt of the per-step Hadamard signs of the dX GEMM (both operands) and of the dW GEMM. */
export const SIGN_SALT = { dx: 0x0d0c0b0a, dw: 0x01020304 } as const;

/** DGE derivative φ'(y) of Wang et al. on the E2M1 grid (y: the scaled value). */
export function dgeDerivative(y: number, k: number, clamp: number): number {
  const ay = Math.abs(y);
  const d = ay < 2 ? 0.5 : ay < 4 ? 1 : 2;
  const left = f(Math.floor(f(y / d)) * d);
  const t = f(y - left);
  const r = Math.abs(f(f(f(2 * t) / d) - 1));
  if (r === 0) return clamp;
  return Math.min(f(f(1 / k) * f(Math.pow(r, f(1 / k - 1)))), clamp);
}

/** Output of one prep group. */
export interface PrepOut {
  /** Values the GEMM reads (rotated basis when the operand has a Hadamard). */
  v: Float32Array;
  /** Gradient multiplier (estimator): 1, trust mask 0/1, or DGE φ'. */
  g: Float32Array;
}

/**
 * Reference of one prep group: `x` holds G values along the reduction axis, `seed` is the group's
 * random seed (stochastic rounding counters 0..G−1), `stepSeed` the step's seed (per-step signs),
 * `gemm` which backward GEMM's sign salt applies.
 */
export function refPrep(
  op: OperandQuant,
  x: Float32Array,
  seed: number,
  stepSeed = 0,
  gemm: "dx" | "dw" = "dx",
): PrepOut {
  const G = x.length;
  let v = Float32Array.from(x);
  const g = new Float32Array(G).fill(1);
  let res: Float32Array | undefined;
  if (op.clip) {
    const sorted = Float32Array.from(v).sort();
    const { iLo, iHi } = occIndices(op.clip.quantile, G);
    const lo = sorted[iLo], hi = sorted[iHi];
    res = new Float32Array(G);
    for (let j = 0; j < G; j++) {
      const c = Math.min(Math.max(v[j], lo), hi);
      res[j] = f(v[j] - c);
      v[j] = c;
    }
  }
  const hs = hadamardSize(op, G);
  if (hs) {
    const signs = op.hadamard!.signs === "per-step"
      ? hadamardSigns(hs, (stepSeed ^ SIGN_SALT[gemm]) >>> 0)
      : undefined;
    v = hadamardForward(v, hs, signs);
  }
  const S = scaleLen(op, G);
  const sr = op.rounding === "stochastic";
  const uOf = (j: number) => (sr ? rngUniform(seed, j) : -1);
  if (op.centred) {
    const { bits, alpha } = op.centred;
    const lev = f(2 ** bits - 1);
    const trust = f(alpha / (2 ** bits - 1));
    for (let b = 0; b < G; b += S) {
      const st = groupStats(v, (j) => b + j, S);
      const rms = f(Math.sqrt(f(st.sumsq * f(1 / S))));
      const a = f(f(alpha) * rms);
      const step = f(f(2 * a) / lev);
      for (let j = b; j < b + S; j++) {
        const xc = Math.min(Math.max(v[j], -a), a);
        const q = step === 0 ? 0 : f(f(rne(f(f(xc / step) + 0.5)) - 0.5) * step);
        if (op.estimator === "trust") g[j] = Math.abs(f(q - v[j])) <= f(trust * rms) ? 1 : 0;
        v[j] = q;
      }
    }
    return { v, g };
  }
  const spec = formatSpec(op);
  const invN = f(1 / S);
  const pre = op.prescale ? f(op.prescale) : 1;
  const post = op.prescale ? f(1 / op.prescale) : 1;
  for (let b = 0; b < G; b += S) {
    const st = op.scale.granularity === "none"
      ? { amax: 0, sum: 0, sumsq: 0 }
      : groupStats(v, (j) => b + j, S);
    const sc = groupScale(spec, st, invN, 1);
    for (let j = b; j < b + S; j++) {
      const y = op.prescale ? f(v[j] * pre) : v[j];
      const [d, keep] = quantizeScaled(spec, y, sc, uOf(j));
      if (op.estimator === "trust") g[j] = keep ? 1 : 0;
      else if (op.estimator === "dge") {
        const ys = sc.scale === 0 ? 0 : f(y / sc.scale);
        g[j] = dgeDerivative(ys, op.dge!.k, op.dge!.clamp);
      }
      let o = op.prescale ? f(d * post) : d;
      if (res && op.clip!.compensate) o = f(o + res[j]);
      v[j] = o;
    }
  }
  return { v, g };
}

/** Whether a forward operand needs a gradient post-pass (mask/DGE multiplier and/or un-rotation). */
export function needsPost(op: OperandQuant | undefined): boolean {
  return !!op && (!!op.hadamard || op.estimator === "trust" || op.estimator === "dge");
}

/** Post-pass group length for a reduction length (the Hadamard block, else 1). */
export function postGroup(op: OperandQuant, len: number): number {
  return hadamardSize(op, len) || 1;
}

/** Reference of the gradient post-pass of one group: (dX_rot ⊙ g) rotated back. */
export function refPost(op: OperandQuant, d: Float32Array, g: Float32Array): Float32Array {
  const v = new Float32Array(d.length);
  for (let j = 0; j < d.length; j++) v[j] = f(d[j] * g[j]);
  const hs = hadamardSize(op, d.length);
  return hs ? hadamardInverse(v, hs) : v;
}

/** The engine's per-group seed mix (kernels/engine/ops.ts `prepare`), for reproducing GPU seeds. */
export function mix32(x: number): number {
  let h = (x ^ (x >>> 16)) >>> 0;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** TS reference of a whole prepare pass over [R, C] along `axis` (group seeds mixed as the engine does). */
export function refTensor(
  op: OperandQuant,
  x: Float32Array,
  R: number,
  C: number,
  axis: 0 | 1,
  stepSeed: number,
  salt: number,
  gemm: "dx" | "dw" = "dx",
): { v: Float32Array; g: Float32Array } {
  const len = axis === 1 ? C : R;
  const G = groupSize(op, len);
  const v = new Float32Array(x.length), g = new Float32Array(x.length);
  const groups = (R * C) / G;
  for (let gi = 0; gi < groups; gi++) {
    const base = axis === 1
      ? Math.floor(gi / (C / G)) * C + (gi % (C / G)) * G
      : Math.floor(gi / C) * G * C + (gi % C);
    const stride = axis === 1 ? 1 : C;
    const grp = new Float32Array(G);
    for (let j = 0; j < G; j++) grp[j] = x[base + j * stride];
    const seed = mix32((stepSeed ^ salt ^ mix32(gi)) >>> 0);
    const o = refPrep(op, grp, seed, stepSeed, gemm);
    for (let j = 0; j < G; j++) {
      v[base + j * stride] = o.v[j];
      g[base + j * stride] = o.g[j];
    }
  }
  return { v, g };
}
