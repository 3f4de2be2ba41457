/**
 * WGSL source generator for the number formats, driven by the same records as the TS reference
 * (lib/formats). Every function mirrors its TS twin operation for operation, so results agree bit
 * for bit (division and sqrt are assumed correctly rounded, as on llvmpipe; the tests check it).
 *
 * Composition: a kernel that fuses operand quantization creates a `WgslLib`, asks it for the pieces
 * it needs (each call returns the generated function names and dedups shared helpers), and appends
 * `lib.source()` to its own shader text. See `WgslLib.operand` for the one-call
 * "transform + scale + round (+ mask)" block function.
 * @module
 */
import type { ElementFormat } from "../../lib/formats/elements.ts";
import { ELEMENTS } from "../../lib/formats/elements.ts";
import { f32Bits, wgslF32 } from "../../lib/formats/f32.ts";
import { hadamardNorm, hadamardSigns } from "../../lib/formats/hadamard.ts";
import { elementPlan, NAN_CODE } from "../../lib/formats/quantize.ts";
import {
  type QuantSpec,
  QUEST_C,
  QUEST_EPS,
  SQRT2_MANTISSA,
  validateSpec,
} from "../../lib/formats/scaling.ts";

/** Identifier-safe suffix for a format name ("e2m1_b1.37" → "e2m1_b1_37"). */
export function wgslIdent(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, "_");
}

const u = (n: number) => `0x${(n >>> 0).toString(16)}u`;

/**
 * Shared helpers (prefix `fp4_`): pow2, floor_log2, rounding, sign, NaN/Inf tests on bits.
 * `fp4_round(y, u)`: u < 0 → round half to even, else stochastic (up with probability frac(y)).
 */
export function wgslCommon(): string {
  return `
fn fp4_pow2(e: i32) -> f32 {
  if (e >= -126) { return bitcast<f32>(u32(e + 127) << 23u); }
  return bitcast<f32>(1u << u32(e + 149));
}
fn fp4_floor_log2(x: f32) -> i32 { return i32((bitcast<u32>(x) >> 23u) & 0xffu) - 127; }
fn fp4_is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn fp4_is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn fp4_abs(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) & 0x7fffffffu); }
fn fp4_copysign(a: f32, s: f32) -> f32 {
  return bitcast<f32>((bitcast<u32>(a) & 0x7fffffffu) | (bitcast<u32>(s) & 0x80000000u));
}
fn fp4_round(y: f32, u: f32) -> f32 {
  let fl = floor(y);
  let d = y - fl;
  if (u < 0.0) {
    if (d > 0.5 || (d == 0.5 && (u32(fl) & 1u) == 1u)) { return fl + 1.0; }
    return fl;
  }
  return select(fl, fl + 1.0, u < d);
}
`;
}

/**
 * Counter-based RNG, same stream as lib/formats/rng.ts: `fp4_rng_u32(seed, ctr) -> u32`,
 * `fp4_rng_uniform(seed, ctr) -> f32` in [0, 1) with 24 bits, `fp4_rng_sign(seed, ctr) -> f32` (±1).
 */
export function wgslRng(): string {
  return `
fn fp4_pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}
fn fp4_rng_u32(seed: u32, ctr: u32) -> u32 { return fp4_pcg(fp4_pcg(ctr) ^ fp4_pcg(seed ^ 0x9e3779b9u)); }
fn fp4_rng_uniform(seed: u32, ctr: u32) -> f32 { return f32(fp4_rng_u32(seed, ctr) >> 8u) * bitcast<f32>(0x33800000u); }
fn fp4_rng_sign(seed: u32, ctr: u32) -> f32 { return select(1.0, -1.0, (fp4_rng_u32(seed, ctr) >> 31u) == 1u); }
`;
}

/**
 * Element quantizer `fn <name>(x: f32, u: f32) -> f32` (default name `quantize_<fmt>`): returns the
 * dequantized value at unit scale; u < 0 rounds to nearest even, u in [0,1) rounds stochastically.
 * Needs wgslCommon().
 */
export function wgslElementQuantizer(fmt: ElementFormat, name = `quantize_${wgslIdent(fmt.name)}`): string {
  const p = elementPlan(fmt);
  const head = `fn ${name}(x: f32, u: f32) -> f32 {
  let bits = bitcast<u32>(x);
  if ((bits & 0x7fffffffu) > 0x7f800000u) { return x; }
  let sgn = bits & 0x80000000u;`;
  if (p.path === "f32trunc") {
    const drop = 23 - fmt.manBits;
    const mask = (1 << drop) - 1;
    return `${head}
  if ((bits & 0x7fffffffu) == 0x7f800000u) { return x; }
  var r: u32;
  if (u < 0.0) { r = bits + ${u(mask >>> 1)} + ((bits >> ${drop}u) & 1u); } else { r = bits + u32(floor(u * ${
      wgslF32(2 ** drop)
    })); }
  return bitcast<f32>(r & ${u(~mask)});
}
`;
  }
  const inf = fmt.hasInf ? "return x;" : `return bitcast<f32>(${u(f32Bits(fmt.max))} | sgn);`;
  if (p.path === "int") {
    return `${head}
  if ((bits & 0x7fffffffu) == 0x7f800000u) { ${inf} }
  let ax = min(bitcast<f32>(bits & 0x7fffffffu), ${wgslF32(fmt.max)});
  let r = fp4_round(ax, u);
  if (r == 0.0) { return 0.0; }
  return bitcast<f32>(bitcast<u32>(r) | sgn);
}
`;
  }
  const m = fmt.manBits;
  const lines = [
    head,
    `  if ((bits & 0x7fffffffu) == 0x7f800000u) { ${inf} }`,
    `  var ax = bitcast<f32>(bits & 0x7fffffffu);`,
  ];
  if (p.c !== 1) lines.push(`  ax = ax * ${wgslF32(p.c)};`);
  if (fmt.ieeeOverflow) {
    lines.push(`  if (fp4_floor_log2(ax) > ${p.emaxK}) { return bitcast<f32>(0x7f800000u | sgn); }`);
  } else {
    lines.push(`  ax = min(ax, ${wgslF32(p.kmax)});`);
  }
  lines.push(
    `  let e = max(fp4_floor_log2(ax), ${p.emin});`,
    `  let y = ax * fp4_pow2(${m} - e);`,
    `  var q = fp4_round(y, u) * fp4_pow2(e - ${m});`,
  );
  if (fmt.ieeeOverflow) lines.push(`  if (q > ${wgslF32(p.kmax)}) { q = bitcast<f32>(0x7f800000u); }`);
  if (p.c !== 1) lines.push(`  q = q * ${wgslF32(p.cinv)};`);
  lines.push(`  return bitcast<f32>(bitcast<u32>(q) | sgn);`, `}`, ``);
  return lines.join("\n");
}

/**
 * Element encoder `fn <name>(q: f32) -> u32` (default `encode_<fmt>`): the bit code of a value on the
 * grid (the output of the quantizer at unit scale); same codes as encodeElement. Needs wgslCommon().
 */
export function wgslElementEncoder(fmt: ElementFormat, name = `encode_${wgslIdent(fmt.name)}`): string {
  const p = elementPlan(fmt);
  const n = fmt.bits, m = fmt.manBits;
  if (fmt.kind === "int") {
    return `fn ${name}(q: f32) -> u32 {
  if (fp4_is_nan(q)) { return ${u(NAN_CODE)}; }
  return u32(i32(q)) & ${u((1 << n) - 1)};
}
`;
  }
  if (p.path === "f32trunc") {
    const nan = (0xff << m) | (1 << (m - 1));
    return `fn ${name}(q: f32) -> u32 {
  if (fp4_is_nan(q)) { return ${u(nan)}; }
  return bitcast<u32>(q) >> ${23 - m}u;
}
`;
  }
  const expAll = (1 << fmt.expBits) - 1;
  const nanCode = !fmt.hasNaN ? NAN_CODE : fmt.hasInf ? (expAll << m) | (1 << (m - 1)) : (1 << (n - 1)) - 1;
  const requant = p.c === 1 ? "" : `
  {
    let y = aq * ${wgslF32(p.c)};
    let e0 = max(fp4_floor_log2(y), ${p.emin});
    aq = fp4_round(y * fp4_pow2(${m} - e0), -1.0) * fp4_pow2(e0 - ${m});
  }`;
  return `fn ${name}(q: f32) -> u32 {
  let bits = bitcast<u32>(q);
  let sgn = (bits >> 31u) << ${n - 1}u;
  if ((bits & 0x7fffffffu) > 0x7f800000u) { return ${u(nanCode)}; }
  if ((bits & 0x7fffffffu) == 0x7f800000u) { return sgn | ${u(expAll << m)}; }
  var aq = bitcast<f32>(bits & 0x7fffffffu);${requant}
  if (aq == 0.0) { return sgn; }
  let e = fp4_floor_log2(aq);
  if (e < ${p.emin}) { return sgn | u32(aq * fp4_pow2(${m - p.emin})); }
  return sgn | (u32(e - ${p.emin - 1}) << ${m}u) | (u32(aq * fp4_pow2(${m} - e)) - ${u(1 << m)});
}
`;
}

/**
 * BF16 rounding for the training engine: `fn round_bf16(x: f32) -> f32` (RNE, IEEE overflow to Inf,
 * NaN kept) and `fn round_bf16_sr(x: f32, u: f32) -> f32` (stochastic). Self-contained (no helpers).
 */
export function wgslBf16(): string {
  return wgslElementQuantizer(ELEMENTS.bf16, "round_bf16_sr") +
    `fn round_bf16(x: f32) -> f32 { return round_bf16_sr(x, -1.0); }
`;
}

/**
 * Straight-line WGSL statements for one n-point block Hadamard (no arrays, no loops: on llvmpipe a
 * function-space array with dynamic indices is spilled and gathered per lane, which made H128 30× slower).
 * `load(j)` gives the expression of input j, `store(j, e)` the statement that writes output j.
 * Forward: signs, butterflies, ·1/√n; inverse: butterflies, ·1/√n, signs (same f32 operations as TS).
 * `norm`: override the final multiplier (WGSL f32 expression), or null to skip it.
 */
export function wgslHadamardStatements(
  n: number,
  load: (j: number) => string,
  store: (j: number, expr: string) => string,
  opts: { signs?: Float32Array; inverse?: boolean; tag?: string; norm?: string | null } = {},
): string {
  const t = opts.tag ?? "h";
  const out: string[] = [];
  let cur: string[] = [];
  for (let j = 0; j < n; j++) {
    const neg = !opts.inverse && opts.signs && opts.signs[j] < 0;
    out.push(`let ${t}0_${j} = ${neg ? `-(${load(j)})` : load(j)};`);
    cur.push(`${t}0_${j}`);
  }
  let stage = 0;
  for (let h = 1; h < n; h *= 2) {
    stage++;
    const next = cur.slice();
    for (let i = 0; i < n; i += 2 * h) {
      for (let j = i; j < i + h; j++) {
        out.push(`let ${t}${stage}_${j} = ${cur[j]} + ${cur[j + h]};`);
        out.push(`let ${t}${stage}_${j + h} = ${cur[j]} - ${cur[j + h]};`);
        next[j] = `${t}${stage}_${j}`;
        next[j + h] = `${t}${stage}_${j + h}`;
      }
    }
    cur = next;
  }
  // `norm: null` skips the final 1/√n (partial transforms); a string overrides it (the full size's norm).
  const norm = opts.norm === undefined ? wgslF32(hadamardNorm(n)) : opts.norm;
  for (let j = 0; j < n; j++) {
    const neg = opts.inverse && opts.signs && opts.signs[j] < 0;
    const v = norm === null ? cur[j] : `${cur[j]} * ${norm}`;
    out.push(store(j, neg ? `-(${v})` : v));
  }
  return out.map((l) => `    ${l}`).join("\n");
}

/**
 * Statements for one n-point block Hadamard between storage arrays, for a kernel with one invocation
 * per block starting at `base` (a u32 expression). `read(idx)` / `write(idx, e)` access the source and
 * destination arrays; `readDst(idx)` reads the destination back. n ≤ 64: fully straight-line. n > 64:
 * H_n = H_(n/64) ⊗ H_64, so the first six butterfly stages run straight-line on each contiguous 64-block
 * (a loop over the blocks) and the remaining stages straight-line on the stride-64 sets, with the
 * intermediate values in the destination. Same stage order and f32 operations as the TS loop (bit-exact)
 * at the compile cost of the 64-point kernel (the fully unrolled 256-point kernel took seconds to build).
 */
export function wgslHadamardStorage(
  n: number,
  read: (idx: string) => string,
  write: (idx: string, e: string) => string,
  readDst: (idx: string) => string,
  base: string,
  opts: { signSeed?: number; inverse?: boolean } = {},
): string {
  const signs = opts.signSeed === undefined ? undefined : hadamardSigns(n, opts.signSeed);
  if (n <= 64) {
    return wgslHadamardStatements(
      n,
      (j) => read(`${base} + ${j}u`),
      (j, e) => write(`${base} + ${j}u`, e),
      { signs, inverse: opts.inverse },
    );
  }
  const b = 64, a = n / b;
  // Signs recomputed with fp4_rng_sign (include wgslRng()): a baked 256-entry const table indexed
  // dynamically made llvmpipe's compile ~10× slower.
  const signPass = (r: (idx: string) => string) =>
    `    for (var j = 0u; j < ${n}u; j = j + 1u) { ${
      write(`${base} + j`, `${r(`${base} + j`)} * fp4_rng_sign(${u(opts.signSeed!)}, j)`)
    } }`;
  const out: string[] = [];
  let src = read;
  if (signs && !opts.inverse) {
    out.push(signPass(read));
    src = readDst;
  }
  const inner = wgslHadamardStatements(b, (j) => src(`sb + ${j}u`), (j, e) => write(`sb + ${j}u`, e), {
    norm: null,
  });
  const outer = wgslHadamardStatements(
    a,
    (i) => readDst(`sb + ${i * b}u`),
    (i, e) => write(`sb + ${i * b}u`, e),
    { norm: wgslF32(hadamardNorm(n)) },
  );
  out.push(
    `    for (var k = 0u; k < ${a}u; k = k + 1u) {\n      let sb = ${base} + k * ${b}u;\n${inner}\n    }`,
  );
  out.push(`    for (var c = 0u; c < ${b}u; c = c + 1u) {\n      let sb = ${base} + c;\n${outer}\n    }`);
  if (signs && opts.inverse) out.push(signPass(readDst));
  return out.join("\n");
}

/**
 * In-place block Hadamard on a function-space array: `fn <p>_fwd(v: ptr<function, array<f32, L>>)`
 * and `fn <p>_inv(...)`, rotating each of the L/n sub-blocks of n values (L = `len`, default n).
 * Signs from `signSeed` (same as hadamardSigns) are baked in: applied before H (fwd) / after H (inv).
 * `unroll` (default n ≤ 64) emits straight-line butterflies: much faster on llvmpipe, but the compile
 * time of straight-line code on a private array grows steeply (n = 256: tens of seconds), so larger
 * sizes use loops.
 */
export function wgslHadamard(
  n: number,
  prefix: string,
  signSeed?: number,
  len = n,
  unroll = n <= 64,
): string {
  const signs = signSeed === undefined ? undefined : hadamardSigns(n, signSeed);
  if (!unroll) return wgslHadamardLoops(n, prefix, signSeed, len);
  const fn = (inverse: boolean) => {
    const body = wgslHadamardStatements(
      n,
      (j) => `(*v)[o + ${j}u]`,
      (j, e) => `(*v)[o + ${j}u] = ${e};`,
      { signs, inverse },
    );
    return `fn ${prefix}_${inverse ? "inv" : "fwd"}(v: ptr<function, array<f32, ${len}>>) {
  for (var o = 0u; o < ${len}u; o = o + ${n}u) {
${body}
  }
}
`;
  };
  return fn(false) + fn(true);
}

function wgslHadamardLoops(n: number, prefix: string, signSeed: number | undefined, len: number): string {
  const norm = wgslF32(hadamardNorm(n));
  const body = `
    for (var h = 1u; h < ${n}u; h = h * 2u) {
      for (var i = 0u; i < ${n}u; i = i + 2u * h) {
        for (var j = i; j < i + h; j = j + 1u) {
          let a = (*v)[o + j];
          let b = (*v)[o + j + h];
          (*v)[o + j] = a + b;
          (*v)[o + j + h] = a - b;
        }
      }
    }`;
  const sgn = signSeed !== undefined
    ? `\n    for (var j = 0u; j < ${n}u; j = j + 1u) { (*v)[o + j] = (*v)[o + j] * fp4_rng_sign(${
      u(signSeed)
    }, j); }`
    : "";
  const nrm = `\n    for (var j = 0u; j < ${n}u; j = j + 1u) { (*v)[o + j] = (*v)[o + j] * ${norm}; }`;
  return `fn ${prefix}_fwd(v: ptr<function, array<f32, ${len}>>) {
  for (var o = 0u; o < ${len}u; o = o + ${n}u) {${sgn}${body}${nrm}
  }
}
fn ${prefix}_inv(v: ptr<function, array<f32, ${len}>>) {
  for (var o = 0u; o < ${len}u; o = o + ${n}u) {${body}${nrm}${sgn}
  }
}
`;
}

/**
 * Packing helpers (same layout as lib/formats/packing.ts): `fn fp4_pack8(c: array<u32, 8>) -> u32` puts
 * code i in bits 4i..4i+3; `fn fp4_nibble(w: u32, i: u32) -> u32` reads code i back;
 * `fn fp4_e8m0_byte(sc: Fp4Scale) -> u32` is the stored E8M0 byte of a power-of-two scale.
 */
export function wgslPacking(): string {
  return `fn fp4_pack8(c: array<u32, 8>) -> u32 {
  var w = 0u;
  for (var i = 0u; i < 8u; i = i + 1u) { w = w | ((c[i] & 0xfu) << (4u * i)); }
  return w;
}
fn fp4_nibble(w: u32, i: u32) -> u32 { return (w >> (4u * i)) & 0xfu; }
fn fp4_e8m0_byte(sc: Fp4Scale) -> u32 { return sc.code & 0xffu; }
`;
}

/**
 * Statements that accumulate group statistics (`amax`, `sum`, `sumsq`, f32, same order as groupStats)
 * over `count` values read by the expression `load(j)` (j: u32 loop variable named `j`).
 */
export function wgslStatsLoop(count: string, load: string): string {
  return `  var amax = 0.0;
  var sum = 0.0;
  var sumsq = 0.0;
  for (var j = 0u; j < ${count}; j = j + 1u) {
    let val = ${load};
    if ((bitcast<u32>(val) & 0x7f800000u) == 0x7f800000u) { continue; }
    amax = max(amax, fp4_abs(val));
    sum = sum + val;
    sumsq = sumsq + val * val;
  }
`;
}

/**
 * Groups up to this length get their loops over the group written out with constant indices: llvmpipe then
 * keeps the group's private arrays in registers instead of per-lane scratch memory.
 */
export const UNROLL_MAX = 32;

/**
 * `for (var j = from; j < from + n; j++) { body }` — or, with `unroll`, the n bodies each in a block that
 * binds `let j` to a constant (same statements, same order, so the same results).
 */
export function wgslFor(j: string, from: string, n: number, body: string, unroll: boolean, step = 1): string {
  if (!unroll) {
    return `for (var ${j} = ${from}; ${j} < ${from} + ${n}u; ${j} = ${j} + ${step}u) {\n${body}\n}`;
  }
  const out: string[] = [];
  for (let k = 0; k < n; k += step) out.push(`{ let ${j} = ${from} + ${k}u;\n${body}\n}`);
  return out.join("\n");
}

/**
 * `wgslStatsLoop` written out for `n` values `load(j)` (j a constant): the same accumulations in the same
 * order, so results are identical; a private array indexed only by constants stays in registers on llvmpipe.
 */
export function wgslStatsUnrolled(n: number, load: (j: number) => string): string {
  const L = [`  var amax = 0.0;\n  var sum = 0.0;\n  var sumsq = 0.0;`];
  for (let j = 0; j < n; j++) {
    L.push(`  { let val = ${load(j)};
    if ((bitcast<u32>(val) & 0x7f800000u) != 0x7f800000u) {
      amax = max(amax, fp4_abs(val)); sum = sum + val; sumsq = sumsq + val * val;
    } }`);
  }
  return L.join("\n") + "\n";
}

/** The struct returned by scale functions: effective scale and stored code (E8M0 byte / E4M3 code / f32 bits). */
export const WGSL_SCALE_STRUCT = `struct Fp4Scale { scale: f32, code: u32 }\n`;

/**
 * Scale function `fn <p>_scale(amax: f32, sum: f32, sumsq: f32, tscale: f32) -> Fp4Scale` for a spec
 * (group length fixed by the spec: block size, or `groupLen` for row/col/tensor). Mirrors groupScale.
 * Needs wgslCommon(), WGSL_SCALE_STRUCT and (e4m3 scales) the e4m3 quantizer `quantize_e4m3`.
 */
export function wgslScaleFn(spec: QuantSpec, prefix: string, groupLen: number): string {
  const s = spec.scale, elem = spec.element;
  const head = `fn ${prefix}_scale(amax: f32, sum: f32, sumsq: f32, tscale: f32) -> Fp4Scale {`;
  if (s.granularity === "none") return `${head}\n  return Fp4Scale(1.0, 0x3f800000u);\n}\n`;
  if (s.type === "f32") {
    return `${head}
  let sc = amax / ${wgslF32(elem.max)};
  return Fp4Scale(sc, bitcast<u32>(sc));
}
`;
  }
  if (s.type === "e4m3") {
    const two = s.tensorScale ? `  if (tscale == 0.0) { y = 0.0; } else { y = y / tscale; }\n` : "";
    return `${head}
  var y = amax / ${wgslF32(elem.max)};
${two}  let sb = quantize_e4m3(y, -1.0);
  return Fp4Scale(${s.tensorScale ? "sb * tscale" : "sb"}, encode_e4m3(sb));
}
`;
  }
  let body: string;
  if (s.rule === "ocp") {
    body = `  let e = fp4_floor_log2(amax) - ${elem.emax};`;
  } else if (s.rule === "absmax") {
    body = `  let y = amax / ${wgslF32(elem.max)};
  var e = -127;
  if (y != 0.0) { e = fp4_floor_log2(y) + select(0, 1, (bitcast<u32>(y) & 0x7fffffu) != 0u); }`;
  } else {
    body = `  let inv_n = ${wgslF32(Math.fround(1 / groupLen))};
  let mean = sum * inv_n;
  let msq = sumsq * inv_n;
  let va = msq - mean * mean;
  var sigma = 1.0;
  if (!(va < 0.0)) { sigma = sqrt(va); }
  let y = ${wgslF32(QUEST_C)} * sigma + ${wgslF32(QUEST_EPS)};
  var e = fp4_floor_log2(y);${
      s.rule === "quest-round"
        ? `\n  if ((bitcast<u32>(y) & 0x7fffffu) >= ${u(SQRT2_MANTISSA)}) { e = e + 1; }`
        : ""
    }`;
  }
  return `${head}
${body}
  let ec = clamp(e, -127, 127);
  return Fp4Scale(fp4_pow2(ec), u32(ec + 127));
}
`;
}

/** The struct returned by round functions: dequantized value, element value q (unit scale), mask bit. */
export const WGSL_Q_STRUCT = `struct Fp4Q { deq: f32, q: f32, keep: bool }\n`;

/**
 * Round function `fn <p>_round(x: f32, sc: Fp4Scale, u: f32) -> Fp4Q`: scale, round, mask, dequantize one
 * value (mirrors quantizeScaled). Needs the element quantizer `quantize_<elem>`.
 */
export function wgslRoundFn(spec: QuantSpec, prefix: string): string {
  const elem = spec.element;
  const qn = `quantize_${wgslIdent(elem.name)}`;
  const quest = spec.scale.rule === "quest" || spec.scale.rule === "quest-round";
  const none = spec.scale.granularity === "none";
  let scaled: string;
  if (none) scaled = `y = x;`;
  else if (spec.scale.type === "e8m0") {
    scaled =
      `if (sc.scale == 0.0) { y = fp4_copysign(0.0, x); } else { y = x * fp4_pow2(127 - i32(sc.code)); }`;
  } else scaled = `if (sc.scale == 0.0) { y = fp4_copysign(0.0, x); } else { y = x / sc.scale; }`;
  return `fn ${prefix}_round(x: f32, sc: Fp4Scale, u: f32) -> Fp4Q {
  var y: f32;
  if (fp4_is_nan(x)) { y = x; } else { ${scaled} }
  let q = ${qn}(y, u);
  let a = fp4_abs(y);
  let keep = a ${quest ? "<" : "<="} ${wgslF32(elem.max)};
  return Fp4Q(${none ? "q" : "q * sc.scale"}, q, keep);
}
`;
}

/** Names of the functions `WgslLib.operand` generated for one operand. */
export interface OperandFns {
  /** `fn <p>_quantize(v: ptr<function, array<f32, L>>, scales: ptr<function, array<Fp4Scale, NS>>,
   *  mask: ptr<function, array<u32, MW>>, seed: u32, ctr0: u32, tscale: f32)`. */
  quantize: string;
  /** Element count L of the chunk array the block function works on: max(block, hadamard size). */
  len: number;
  /** Scale groups per chunk (NS = L / block). */
  groups: number;
  /** u32 mask words per chunk (MW = ceil(L/32)). */
  maskWords: number;
  /** Hadamard functions `<p>_hadamard_fwd` / `<p>_hadamard_inv` on the chunk (absent without rotation). */
  rotate?: string;
  /** Inverse rotation of the chunk (absent without rotation). */
  unrotate?: string;
  /** `fn <p>_scale(amax, sum, sumsq, tscale) -> Fp4Scale` and `fn <p>_round(x, sc, u) -> Fp4Q`. */
  scale: string;
  /** Name of the round function. */
  round: string;
}

/**
 * Collects generated WGSL pieces for one shader, deduplicated by key. Usage:
 * ```ts
 * const lib = new WgslLib();
 * const qx = lib.operand(specX, "qx");          // transform + scale + round (+ mask) of one operand
 * const code = lib.source() + myKernelCode;     // myKernelCode calls qx.quantize(...)
 * ```
 */
export class WgslLib {
  private parts = new Map<string, string>();

  /** Adds a piece once under `key`. */
  add(key: string, code: string): void {
    if (!this.parts.has(key)) this.parts.set(key, code);
  }

  /** Common helpers (always needed). */
  common(): void {
    this.add("common", wgslCommon());
  }

  /** The RNG functions (fp4_rng_*). */
  rng(): void {
    this.add("rng", wgslRng());
  }

  /** Element quantizer (and encoder); returns the quantizer's name `quantize_<fmt>`. */
  element(fmt: ElementFormat): string {
    this.common();
    const id = wgslIdent(fmt.name);
    this.add(`q_${id}`, wgslElementQuantizer(fmt));
    this.add(`enc_${id}`, wgslElementEncoder(fmt));
    return `quantize_${id}`;
  }

  /** Packing helpers `fp4_pack8`, `fp4_nibble`, `fp4_e8m0_byte` (needs the Fp4Scale struct). */
  packing(): void {
    this.add("scale_struct", WGSL_SCALE_STRUCT);
    this.add("packing", wgslPacking());
  }

  /** `round_bf16(x)` and `round_bf16_sr(x, u)`. */
  bf16(): void {
    this.add("bf16", wgslBf16());
  }

  /** Hadamard pair `<prefix>_fwd` / `<prefix>_inv` on arrays of `len` (default n). */
  hadamard(n: number, prefix: string, signSeed?: number, len = n): string {
    this.rng();
    this.add(`had_${prefix}`, wgslHadamard(n, prefix, signSeed, len));
    return prefix;
  }

  /** Scale + round functions for one spec; `groupLen` is the elements per group (block size by default). */
  scaleAndRound(spec: QuantSpec, prefix: string, groupLen?: number): { scale: string; round: string } {
    validateSpec(spec);
    this.common();
    this.add("scale_struct", WGSL_SCALE_STRUCT);
    this.add("q_struct", WGSL_Q_STRUCT);
    this.element(spec.element);
    if (spec.scale.type === "e4m3") this.element(ELEMENTS.e4m3);
    const len = groupLen ?? spec.scale.block ?? 1;
    this.add(`scale_${prefix}`, wgslScaleFn(spec, prefix, len));
    this.add(`round_${prefix}`, wgslRoundFn(spec, prefix));
    return { scale: `${prefix}_scale`, round: `${prefix}_round` };
  }

  /**
   * The fused block function for a block-scaled operand (granularity "block" along the chunk, or "none"):
   * rotates the chunk of L = max(block, hadamard) values in place (when the spec has a Hadamard),
   * computes one scale per block, rounds every value (stochastic counter `ctr0 + j` with `seed`), leaves
   * the dequantized values in the rotated basis in `v`, the scales in `scales` and the mask bits (bit j%32
   * of word j/32) in `mask`. The caller rotates back with `unrotate` when it wants the original basis.
   * Equals quantizeTensor(..., {rotateBack: false}) on a row-major tensor when ctr0 is the chunk's flat index.
   */
  operand(spec: QuantSpec, prefix: string): OperandFns {
    validateSpec(spec);
    const g = spec.scale.granularity;
    if (g !== "block" && g !== "none") {
      throw new Error(`operand(): granularity ${g} needs a multi-pass kernel`);
    }
    if ((spec.scale.axis ?? 1) !== 1) throw new Error("operand(): blocks must run along the chunk (axis 1)");
    const block = g === "block" ? spec.scale.block! : 1;
    const hs = spec.hadamard?.size ?? 1;
    const len = Math.max(block, hs, 1);
    const groups = len / block;
    const maskWords = Math.ceil(len / 32);
    const { scale, round } = this.scaleAndRound(spec, prefix, block);
    this.rng();
    let rot = "";
    let fns: Partial<OperandFns> = {};
    if (spec.hadamard) {
      this.hadamard(hs, `${prefix}_hadamard`, spec.hadamard.signSeed, len);
      rot = `  ${prefix}_hadamard_fwd(v);\n`;
      fns = { rotate: `${prefix}_hadamard_fwd`, unrotate: `${prefix}_hadamard_inv` };
    }
    const sr = spec.rounding === "stochastic";
    const statsLoad = g === "none" ? "" : wgslStatsLoop(`${block}u`, `(*v)[b * ${block}u + j]`);
    const code =
      `fn ${prefix}_quantize(v: ptr<function, array<f32, ${len}>>, scales: ptr<function, array<Fp4Scale, ${groups}>>, mask: ptr<function, array<u32, ${maskWords}>>, seed: u32, ctr0: u32, tscale: f32) {
${rot}  for (var w = 0u; w < ${maskWords}u; w = w + 1u) { (*mask)[w] = 0u; }
  for (var b = 0u; b < ${groups}u; b = b + 1u) {
    var sc: Fp4Scale;
    {
${
        g === "none"
          ? "      sc = Fp4Scale(1.0, 0x3f800000u);"
          : `${statsLoad}      sc = ${scale}(amax, sum, sumsq, tscale);`
      }
    }
    (*scales)[b] = sc;
    for (var k = 0u; k < ${block}u; k = k + 1u) {
      let j = b * ${block}u + k;
      let r = ${round}((*v)[j], sc, ${sr ? "fp4_rng_uniform(seed, ctr0 + j)" : "-1.0"});
      (*v)[j] = r.deq;
      if (r.keep) { (*mask)[j / 32u] = (*mask)[j / 32u] | (1u << (j % 32u)); }
    }
  }
}
`;
    this.add(`operand_${prefix}`, code);
    return { quantize: `${prefix}_quantize`, len, groups, maskWords, scale, round, ...fns };
  }

  /** The concatenated WGSL of every piece added so far. */
  source(): string {
    return [...this.parts.values()].join("\n");
  }
}
