/**
 * WGSL generators of the packed-run kernels (lib/engine/pack.ts): K runs of one shape train in one program,
 * their activations stacked as a K·B batch (run-major rows) and their parameters, gradients and AdamW
 * moments as K slabs of `S` floats each (run r's tensor at `r·S + offset`).
 *
 * Each kernel here is the run-aware twin of one kernel of ./ops.ts: every output of run r is computed by the
 * same sequence of operations over the same values of run r as the single-run kernel, in the same order —
 * only the addresses gain a run offset. That is what makes a packed run bit-identical to the run alone
 * (tests/engine_pack_test.ts). Kernels that never touch per-run state (elementwise ops, softmax, rope, the
 * cross-entropy rows, attention GEMMs) need no twin: they run over K·M rows unchanged.
 * @module
 */
import { flit, WG } from "./ops.ts";
import { UNROLL_MAX, wgslFor } from "../formats/wgsl.ts";

const HEAD = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid;`;

/** Word layout of a packed id buffer: ids [K·M], targets [K·M], then per run CSR offsets [V+1] and positions [M]. */
export interface RunIdLayout {
  /** Rows (ids) per run. */
  M: number;
  /** Runs. */
  runs: number;
  /** Targets start. */
  tgtOff: number;
  /** CSR of run 0 starts here. */
  csrOff: number;
  /** Words per run's CSR (V + 1 + M). */
  csrWords: number;
  /** Total words. */
  words: number;
}

/** The packed id-buffer layout of `runs` runs of M ids over V rows. */
export function runIdLayout(M: number, V: number, runs: number): RunIdLayout {
  const csrWords = V + 1 + M;
  return { M, runs, tgtOff: runs * M, csrOff: 2 * runs * M, csrWords, words: 2 * runs * M + runs * csrWords };
}

/**
 * Embedding gather of K runs: X[m] = E_r[tok[m]], r = m / M. Bindings: 0 ids, 1 table slice (run 0's
 * tensor, covering every run), 2 X [K·M, D].
 */
export function embedFwdRuns(M: number, D: number, runs: number, S: number): string {
  const D4 = D / 4;
  return `@group(0) @binding(0) var<storage, read> tok: array<u32>;
@group(0) @binding(1) var<storage, read> E: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> X: array<vec4<f32>>;
${HEAD}
  if (i >= ${runs * M * D4}u) { return; }
  let m = i / ${D4}u;
  let j = i % ${D4}u;
  X[i] = E[(m / ${M}u) * ${S / 4}u + tok[m] * ${D4}u + j];
}`;
}

/**
 * Embedding gradient of K runs (each from its own CSR, positions local to the run, ascending as alone).
 * Bindings: 0 ids, 1 dX [K·M, D], 2 dE slice (run 0's tensor, covering every run).
 */
export function embedBwdRuns(
  M: number,
  D: number,
  V: number,
  runs: number,
  S: number,
  lay: RunIdLayout,
): string {
  const D4 = D / 4;
  return `@group(0) @binding(0) var<storage, read> bt: array<u32>;
@group(0) @binding(1) var<storage, read> dX: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dE: array<vec4<f32>>;
${HEAD}
  if (i >= ${runs * V * D4}u) { return; }
  let r = i / ${V * D4}u;
  let v = (i / ${D4}u) % ${V}u;
  let j = i % ${D4}u;
  let c = ${lay.csrOff}u + r * ${lay.csrWords}u;
  let a = bt[c + v];
  let b = bt[c + v + 1u];
  var s = vec4<f32>(0.0);
  for (var q = a; q < b; q++) { s += dX[(r * ${M}u + bt[c + ${V + 1}u + q]) * ${D4}u + j]; }
  dE[r * ${S / 4}u + v * ${D4}u + j] = s;
}`;
}

/** RMSNorm forward of K runs (weights per run). Bindings as `rmsFwd`. */
export function rmsFwdRuns(M: number, D: number, eps: number, runs: number, S: number): string {
  const D4 = D / 4;
  return `@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> W: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> R: array<f32>;
${HEAD}
  if (i >= ${runs * M}u) { return; }
  let o = i * ${D4}u;
  let w = (i / ${M}u) * ${S / 4}u;
  var ss = 0.0;
  for (var j = 0u; j < ${D4}u; j++) { let x = X[o + j]; ss += dot(x, x); }
  let r = inverseSqrt(ss / ${flit(D)} + ${flit(eps)});
  R[i] = r;
  for (var j = 0u; j < ${D4}u; j++) { Y[o + j] = (X[o + j] * r) * W[w + j]; }
}`;
}

/** RMSNorm backward to X of K runs. Bindings as `rmsBwd`. */
export function rmsBwdRuns(M: number, D: number, residual: boolean, runs: number, S: number): string {
  const D4 = D / 4;
  return `@group(0) @binding(0) var<storage, read> DY: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> W: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> R: array<f32>;
@group(0) @binding(4) var<storage, read_write> DX: array<vec4<f32>>;
${HEAD}
  if (i >= ${runs * M}u) { return; }
  let o = i * ${D4}u;
  let w = (i / ${M}u) * ${S / 4}u;
  let r = R[i];
  var s = 0.0;
  for (var j = 0u; j < ${D4}u; j++) { s += dot(DY[o + j] * W[w + j], X[o + j] * r); }
  let c = s / ${flit(D)};
  for (var j = 0u; j < ${D4}u; j++) {
    let v = r * (DY[o + j] * W[w + j] - (X[o + j] * r) * c);
    DX[o + j] = ${residual ? "DX[o + j] + v" : "v"};
  }
}`;
}

/** RMSNorm weight gradient of K runs (each over its own M rows, in order). Bindings as `rmsDw`. */
export function rmsDwRuns(M: number, D: number, runs: number, S: number): string {
  const D4 = D / 4;
  return `@group(0) @binding(0) var<storage, read> DY: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> R: array<f32>;
@group(0) @binding(3) var<storage, read_write> DW: array<vec4<f32>>;
${HEAD}
  if (i >= ${runs * D4}u) { return; }
  let r = i / ${D4}u;
  let j = i % ${D4}u;
  let m0 = r * ${M}u;
  var s = vec4<f32>(0.0);
  for (var m = m0; m < m0 + ${M}u; m++) { s += DY[m * ${D4}u + j] * (X[m * ${D4}u + j] * R[m]); }
  DW[r * ${S / 4}u + j] = s;
}`;
}

/**
 * Per-run sums of `n` values each, in order: out[4r + slot] = scale·Σ (or += Σ when `accumulate`).
 * Bindings: 0 values [K·n], 1 out [K·4].
 */
export function sumReduceRuns(
  n: number,
  runs: number,
  scale: number,
  slot: number,
  accumulate: boolean,
): string {
  return `@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> O: array<f32>;
${HEAD}
  if (i >= ${runs}u) { return; }
  var s = 0.0;
  for (var j = i * ${n}u; j < i * ${n}u + ${n}u; j++) { s += X[j]; }
  let o = i * 4u + ${slot}u;
  O[o] = ${accumulate ? `O[o] + s` : `s * ${flit(scale)}`};
}`;
}

/** Gradient-norm stage 1 of K runs: the single-run chunks of each run's `n4` words. Bindings as `sumSquaresPartial`. */
export function sumSquaresPartialRuns(n4: number, chunk: number, runs: number): string {
  const parts = Math.ceil(n4 / chunk);
  return `@group(0) @binding(0) var<storage, read> G: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
${HEAD}
  if (i >= ${runs * parts}u) { return; }
  let r = i / ${parts}u;
  let p = i % ${parts}u;
  let a = r * ${n4}u + p * ${chunk}u;
  let b = r * ${n4}u + min(p * ${chunk}u + ${chunk}u, ${n4}u);
  var s = 0.0;
  for (var j = a; j < b; j++) { let g = G[j]; s += dot(g, g); }
  P[i] = s;
}`;
}

/** Gradient-norm stage 2 of K runs: out[4r] = norm, out[4r + 1] = clip coefficient. Bindings as `clipCoef`. */
export function clipCoefRuns(parts: number, maxNorm: number, runs: number): string {
  return `@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read_write> O: array<f32>;
${HEAD}
  if (i >= ${runs}u) { return; }
  var s = 0.0;
  for (var j = i * ${parts}u; j < i * ${parts}u + ${parts}u; j++) { s += P[j]; }
  let n = sqrt(s);
  O[i * 4u] = n;
  O[i * 4u + 1u] = min(1.0, ${flit(maxNorm)} / (n + 1e-6));
}`;
}

/**
 * AdamW of K runs over their whole slabs of n4 words each, the first `decay4` of each with weight decay;
 * run r reads its own step scalars (lr, lr/bc1, sqrt(bc2), seed) and clip coefficient.
 * Bindings: 0 params, 1 grads, 2 m, 3 v, 4 clip [K·4], 5 step scalars [K·4].
 */
export function adamwRuns(
  n4: number,
  decay4: number,
  runs: number,
  b1: number,
  b2: number,
  eps: number,
  wd: number,
) {
  return `struct U { lr: f32, stepSize: f32, sqrtBc2: f32, pad: f32 };
@group(0) @binding(0) var<storage, read_write> Pm: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> G: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> M1: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> M2: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> C: array<f32>;
@group(0) @binding(5) var<storage, read> US: array<U>;
${HEAD}
  if (i >= ${runs * n4}u) { return; }
  let r = i / ${n4}u;
  let u = US[r];
  let g = G[i] * C[r * 4u + 1u];
  let m = ${flit(b1)} * M1[i] + ${flit(1 - b1)} * g;
  let v = ${flit(b2)} * M2[i] + ${flit(1 - b2)} * (g * g);
  M1[i] = m;
  M2[i] = v;
  var p = Pm[i];
  if (i % ${n4}u < ${decay4}u) { p = p * (1.0 - u.lr * ${flit(wd)}); }
  p = p - u.stepSize * (m / (sqrt(v) / u.sqrtBc2 + vec4<f32>(${flit(eps)})));
  Pm[i] = p;
}`;
}

/**
 * BF16 rounding + packing of a weight of K runs: run r's [rows, 8·width] tensor at float `r·S` of the source
 * goes to rows r·rows… of the rgba32uint texture (as `packBf16` does for one). Bindings: 0 src, 1 dst texture.
 */
export function packBf16Runs(
  rows: number,
  width: number,
  roundWgsl: string,
  runs: number,
  S: number,
): string {
  const n = rows * width;
  return `@group(0) @binding(0) var<storage, read> S: array<vec4<f32>>;
@group(0) @binding(1) var D: texture_storage_2d<rgba32uint, write>;
${roundWgsl}
fn pk(a: f32, b: f32) -> u32 {
  return (bitcast<u32>(bf16_round(a)) >> 16u) | (bitcast<u32>(bf16_round(b)) & 0xffff0000u);
}
${HEAD}
  if (i >= ${runs * n}u) { return; }
  let s = (i / ${n}u) * ${S / 4}u + 2u * (i % ${n}u);
  let x = S[s];
  let y = S[s + 1u];
  textureStore(D, vec2<i32>(i32(i % ${width}u), i32(i / ${width}u)), vec4<u32>(pk(x.x, x.y), pk(x.z, x.w), pk(y.x, y.y), pk(y.z, y.w)));
}`;
}

/** Copies a weight of K runs (run r's [rows, 4·width] at float r·S) into an rgba32float texture of K·rows rows. */
export function toTextureRuns(rows: number, width: number, runs: number, S: number): string {
  const n = rows * width;
  return `@group(0) @binding(0) var<storage, read> S: array<vec4<f32>>;
@group(0) @binding(1) var D: texture_storage_2d<rgba32float, write>;
${HEAD}
  if (i >= ${runs * n}u) { return; }
  textureStore(D, vec2<i32>(i32(i % ${width}u), i32(i / ${width}u)), S[(i / ${n}u) * ${
    S / 4
  }u + (i % ${n}u)]);
}`;
}

/**
 * Operand prepare pass of K runs (the twin of `prepare` in ./ops.ts, per-layer salt as a uniform): group gi
 * of run r = gi / groups reads run r's [R, C] source at float `r·srcStride`, writes the prepared operand
 * (and multiplier) at `r·R·C`, and gets the seed run r would get alone: its own step record (`u`, also what
 * per-step Hadamard signs read) and its local group index. Bindings: 0 src, 1 dst, 2 step records [K],
 * 3 multiplier (when `estimator`), then the salt uniform.
 */
export function prepareRuns(
  R: number,
  C: number,
  axis: 0 | 1,
  group: number,
  prepWgsl: string,
  estimator: boolean,
  runs: number,
  srcStride: number,
): string {
  const groups = (R * C) / group;
  const unroll = group <= UNROLL_MAX;
  const idx = axis === 1
    ? `let base = (gl / ${C / group}u) * ${C}u + (gl % ${C / group}u) * ${group}u; let stride = 1u;`
    : `let base = (gl / ${C}u) * ${group * C}u + (gl % ${C}u); let stride = ${C}u;`;
  return `struct U { lr: f32, stepSize: f32, sqrtBc2: f32, seed: u32 };
@group(0) @binding(0) var<storage, read> S: array<f32>;
@group(0) @binding(1) var<storage, read_write> O: array<f32>;
@group(0) @binding(2) var<storage, read> US: array<U>;
${estimator ? "@group(0) @binding(3) var<storage, read_write> GM: array<f32>;" : ""}
@group(0) @binding(${estimator ? 4 : 3}) var<uniform> SALT: vec4<u32>;
var<private> u: U;
${prepWgsl}
fn mix32(x: u32) -> u32 {
  var h = x ^ (x >> 16u); h = h * 0x7feb352du; h = h ^ (h >> 15u); h = h * 0x846ca68bu; return h ^ (h >> 16u);
}
${HEAD.replace("let i =", "let gi =")}
  if (gi >= ${runs * groups}u) { return; }
  let r = gi / ${groups}u;
  let gl = gi % ${groups}u;
  u = US[r];
  ${idx}
  let sb = r * ${srcStride}u + base;
  let ob = r * ${R * C}u + base;
  var v: array<f32, ${group}>;
  var g: array<f32, ${group}>;
  ${wgslFor("j", "0u", group, "v[j] = S[sb + j * stride]; g[j] = 1.0;", unroll)}
  prep(&v, &g, mix32(u.seed ^ SALT.x ^ mix32(gl)));
  ${wgslFor("j", "0u", group, "O[ob + j * stride] = v[j];", unroll)}
  ${estimator ? wgslFor("j", "0u", group, "GM[ob + j * stride] = g[j];", unroll) : ""}
}`;
}

/**
 * Gradient post-pass of K runs (the twin of `postKernel` in kernels/schemes/prep.ts): run r's [R, C]
 * gradient at float `r·dStride`, its multiplier at `r·R·C`, its own step record. Bindings: 0 D (read_write),
 * 1 step records [K], 2 multiplier (when `mult`).
 */
export function postKernelRuns(
  R: number,
  C: number,
  group: number,
  prep: string,
  mult: boolean,
  runs: number,
  dStride: number,
): string {
  const groups = (R * C) / group;
  const unroll = group <= UNROLL_MAX;
  return `struct U { lr: f32, stepSize: f32, sqrtBc2: f32, seed: u32 };
@group(0) @binding(0) var<storage, read_write> D: array<f32>;
@group(0) @binding(1) var<storage, read> US: array<U>;
${mult ? "@group(0) @binding(2) var<storage, read> GM: array<f32>;" : ""}
var<private> u: U;
${prep}
${HEAD.replace("let i =", "let gi =")}
  if (gi >= ${runs * groups}u) { return; }
  let r = gi / ${groups}u;
  u = US[r];
  let gl = gi % ${groups}u;
  let base = r * ${dStride}u + gl * ${group}u;
  let gb = r * ${R * C}u + gl * ${group}u;
  var v: array<f32, ${group}>;
  var g: array<f32, ${group}>;
  ${wgslFor("j", "0u", group, `v[j] = D[base + j]; g[j] = ${mult ? "GM[gb + j]" : "1.0"};`, unroll)}
  prep(&v, &g, u.seed);
  ${wgslFor("j", "0u", group, "D[base + j] = v[j];", unroll)}
}`;
}
