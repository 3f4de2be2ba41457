/**
 * WGSL kernels of the quantized attention recipes (lib/attention): operand preparation (K/Q smoothing,
 * padding), ΔS, group fake-quantization of any per-head operand, the tiled online softmax with the recipe's
 * P quantization, and the SageBwd dS = P∘(dP − rowsum(dO∘O)). The products themselves run on the engine's
 * GEMM (kernels/engine/gemm.ts) over the fake-quantized operands. Scale and round functions come from the
 * format generator (kernels/formats/wgsl.ts) driven by the same QuantSpec as the TS reference
 * (lib/attention/quant.ts): one definition of each format.
 *
 * Per-head operand layout (floats), for z = b·H + h: element (r, c) at `off + b·sb + h·sh + r·ld + c`.
 * @module
 */
import { WgslLib } from "../formats/wgsl.ts";
import { wgslF32 } from "../../lib/formats/f32.ts";
import { groupShape, type OperandRole, operandSpec } from "../../lib/attention/quant.ts";
import type { AttentionRecipe, OperandQuant } from "../../lib/attention/recipes.ts";

/** Invocations per workgroup of these kernels. */
export const ATT_WG = 64;

const HEAD = `@compute @workgroup_size(${ATT_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${ATT_WG}u + lid;`;

/** Layout of one per-head operand (floats). */
export interface HeadLayout {
  /** Row stride. */
  ld: number;
  /** Batch stride. */
  sb: number;
  /** Head stride. */
  sh: number;
  /** Base offset. */
  off?: number;
}

/** Shape of the per-head problem. */
export interface HeadDims {
  /** Sequences. */
  batch: number;
  /** Heads. */
  heads: number;
  /** Tokens. */
  T: number;
  /** Head size. */
  hd: number;
}

const at = (L: HeadLayout, z: string, r: string, c: string, H: number) =>
  `(${L.off ?? 0}u + (${z} / ${H}u) * ${L.sb}u + (${z} % ${H}u) * ${L.sh}u + (${r}) * ${L.ld}u + (${c}))`;

/** Cache key of a layout. */
export function layoutKey(L: HeadLayout): string {
  return `${L.ld}.${L.sb}.${L.sh}.${L.off ?? 0}`;
}

/**
 * Operand preparation, one invocation per (z, column d): copies Q, K, V of the qkv buffer into the
 * quantization buffer (same layout), K minus its mean over the real keys (smoothK), Q minus its per-block
 * mean (smoothQ; the means q̄ [Z, nBlk, hd] go to binding 2), V rows of padding keys zeroed. Means accumulate
 * in token order in f32 (as the TS reference). Bindings: 0 qkv (read), 1 qkvq (write), 2 qbar (smoothQ).
 */
export function prepWgsl(
  r: AttentionRecipe,
  dims: HeadDims,
  keys: number,
  q: HeadLayout,
  k: HeadLayout,
  v: HeadLayout,
): string {
  const { batch, heads: H, T, hd } = dims;
  const Z = batch * H, nBlk = Math.ceil(T / r.qBlock);
  const A = (L: HeadLayout, t: string) => at(L, "z", t, "d", H);
  return `@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
${r.smoothQ ? "@group(0) @binding(2) var<storage, read_write> QB: array<f32>;" : ""}
${HEAD}
  if (i >= ${Z * hd}u) { return; }
  let z = i / ${hd}u;
  let d = i % ${hd}u;
  var kmean = 0.0;
${
    r.smoothK
      ? `  var s = 0.0;
  for (var t = 0u; t < ${keys}u; t++) { s = s + X[${A(k, "t")}]; }
  kmean = s * ${wgslF32(Math.fround(1 / keys))};`
      : ""
  }
  for (var t = 0u; t < ${T}u; t++) {
    let real = t < ${keys}u;
    Y[${A(k, "t")}] = select(0.0, X[${A(k, "t")}] - kmean, real);
    Y[${A(v, "t")}] = select(0.0, X[${A(v, "t")}], real);
  }
${
    r.smoothQ
      ? `  for (var b = 0u; b < ${nBlk}u; b++) {
    let t0 = b * ${r.qBlock}u;
    let t1 = min(${T}u, t0 + ${r.qBlock}u);
    var s2 = 0.0;
    for (var t = t0; t < t1; t++) { s2 = s2 + X[${A(q, "t")}]; }
    let qm = s2 * (1.0 / f32(t1 - t0));
    QB[(z * ${nBlk}u + b) * ${hd}u + d] = qm;
    for (var t = t0; t < t1; t++) { Y[${A(q, "t")}] = X[${A(q, "t")}] - qm; }
  }`
      : `  for (var t = 0u; t < ${T}u; t++) { Y[${A(q, "t")}] = X[${A(q, "t")}]; }`
  }
}`;
}

/**
 * ΔS[z, b, key] = q̄[z, b]·K_s[z, key] (f32, head dimension in order), one invocation per (z, b, key).
 * Bindings: 0 qbar, 1 qkvq (smoothed K read), 2 dS out.
 */
export function deltaSWgsl(r: AttentionRecipe, dims: HeadDims, k: HeadLayout): string {
  const { batch, heads: H, T, hd } = dims;
  const Z = batch * H, nBlk = Math.ceil(T / r.qBlock);
  return `@group(0) @binding(0) var<storage, read> QB: array<f32>;
@group(0) @binding(1) var<storage, read> Y: array<f32>;
@group(0) @binding(2) var<storage, read_write> DS: array<f32>;
${HEAD}
  if (i >= ${Z * nBlk * T}u) { return; }
  let key = i % ${T}u;
  let zb = i / ${T}u;
  let z = zb / ${nBlk}u;
  var s = 0.0;
  for (var d = 0u; d < ${hd}u; d++) { s = s + QB[zb * ${hd}u + d] * Y[${at(k, "z", "key", "d", H)}]; }
  DS[i] = s;
}`;
}

/**
 * Group fake-quantization in place of a per-head [rows, cols] operand: one invocation per group of the
 * operand quantizer's shape (clipped at the edges), statistics then rounding in row-major order within the
 * group, exactly as lib/attention/quant.ts `fakeQuant`. Binding: 0 the buffer (read_write).
 * `q` must not be "f32" (nothing to do).
 */
export function fakeQuantWgsl(
  q: OperandQuant,
  role: OperandRole,
  Z: number,
  H: number,
  rows: number,
  cols: number,
  tile: number,
  L: HeadLayout,
): string {
  const spec = operandSpec(q);
  if (!spec) throw new Error("fakeQuantWgsl: f32 needs no kernel");
  const g = groupShape(q, role, cols, tile);
  const gr = Math.ceil(rows / g.rows), gc = Math.ceil(cols / g.cols);
  const lib = new WgslLib();
  const fn = lib.scaleAndRound(spec, "fq", g.rows * g.cols);
  const none = spec.scale.granularity === "none";
  const A = (r: string, c: string) => `X[${at(L, "z", r, c, H)}]`;
  return `@group(0) @binding(0) var<storage, read_write> X: array<f32>;
${lib.source()}
${HEAD}
  if (i >= ${Z * gr * gc}u) { return; }
  let z = i / ${gr * gc}u;
  let gi = i % ${gr * gc}u;
  let r0 = (gi / ${gc}u) * ${g.rows}u;
  let c0 = (gi % ${gc}u) * ${g.cols}u;
  let r1 = min(r0 + ${g.rows}u, ${rows}u);
  let c1 = min(c0 + ${g.cols}u, ${cols}u);
  var sc = Fp4Scale(1.0, 0x3f800000u);
${
    none ? "" : `  var amax = 0.0;
  for (var r = r0; r < r1; r++) {
    for (var c = c0; c < c1; c++) {
      let val = ${A("r", "c")};
      if ((bitcast<u32>(val) & 0x7f800000u) == 0x7f800000u) { continue; }
      amax = max(amax, fp4_abs(val));
    }
  }
  sc = ${fn.scale}(amax, 0.0, 0.0, 1.0);`
  }
  for (var r = r0; r < r1; r++) {
    for (var c = c0; c < c1; c++) {
      ${A("r", "c")} = ${fn.round}(${A("r", "c")}, sc, -1.0).deq;
    }
  }
}`;
}

/**
 * The recipe's softmax over rows of S [Z, T, T] (the raw Q̂·K̂ᵀ, alpha 1), one invocation per row:
 * s = (S + ΔS)·(1/√hd); online over key tiles: running max m_t, P̃ = exp(s − m_t)·pScale quantized in the
 * recipe's P groups inside the tile, l from the unquantized P̃. Writes to binding 1 the matrix the PV GEMM
 * multiplies, P_eff = P̂·exp(m_t − m)/l (the online rescaling folded into P), and over S in place the exact
 * probabilities exp(s − lse) with lse = m + log(l/pScale) (the backward's P). Masked entries become 0.
 * Bindings: 0 S (read_write), 1 P_eff (read_write), 2 ΔS [Z, nBlk, T] (smoothQ).
 */
export function softmaxQuantWgsl(r: AttentionRecipe, dims: HeadDims, causal: boolean, keys: number): string {
  const { batch, heads: H, T, hd } = dims;
  const Z = batch * H, nBlk = Math.ceil(T / r.qBlock), NT = Math.ceil(T / r.tile);
  const spec = operandSpec(r.p);
  const g = groupShape(r.p, "p", T, r.tile);
  const lib = new WgslLib();
  lib.common();
  const fn = spec ? lib.scaleAndRound(spec, "pq", g.cols) : undefined;
  const none = !spec || spec.scale.granularity === "none";
  const scale = wgslF32(Math.fround(1 / Math.sqrt(hd)));
  const quant = !spec
    ? ""
    : none
    ? `    for (var k = t0; k < t1; k++) { PE[o + k] = ${
      fn!.round
    }(PE[o + k], Fp4Scale(1.0, 0x3f800000u), -1.0).deq; }`
    : `    for (var g0 = t0; g0 < min(t0 + ${r.tile}u, ${T}u); g0 += ${g.cols}u) {
      let g1 = min(g0 + ${g.cols}u, ${T}u);
      var amax = 0.0;
      for (var k = g0; k < g1; k++) { amax = max(amax, PE[o + k]); }
      let sc = ${fn!.scale}(amax, 0.0, 0.0, 1.0);
      for (var k = g0; k < g1; k++) { PE[o + k] = ${fn!.round}(PE[o + k], sc, -1.0).deq; }
    }`;
  return `@group(0) @binding(0) var<storage, read_write> S: array<f32>;
@group(0) @binding(1) var<storage, read_write> PE: array<f32>;
${r.smoothQ ? "@group(0) @binding(2) var<storage, read> DS: array<f32>;" : ""}
${lib.source()}
${HEAD}
  if (i >= ${Z * T}u) { return; }
  let row = i % ${T}u;
  let z = i / ${T}u;
  let o = i * ${T}u;
  let lim = ${causal ? "row + 1u" : `${keys}u`};
  var mt: array<f32, ${NT}>;
  var m = -3.0e38;
  var l = 0.0;
  for (var t0 = 0u; t0 < lim; t0 += ${r.tile}u) {
    let t1 = min(t0 + ${r.tile}u, lim);
    var mx = -3.0e38;
    for (var k = t0; k < t1; k++) {
      var s = S[o + k];
${r.smoothQ ? `      s = s + DS[(z * ${nBlk}u + row / ${r.qBlock}u) * ${T}u + k];` : ""}
      s = s * ${scale};
      S[o + k] = s;
      mx = max(mx, s);
    }
    let mn = max(m, mx);
    var alpha = 0.0;
    if (m > -3.0e38) { alpha = exp(m - mn); }
    var sum = 0.0;
    for (var k = t0; k < t1; k++) {
      let p = exp(S[o + k] - mn) * ${wgslF32(r.pScale)};
      PE[o + k] = p;
      sum = sum + p;
    }
    for (var k = t1; k < min(t0 + ${r.tile}u, ${T}u); k++) { PE[o + k] = 0.0; }
${quant}
    l = l * alpha + sum;
    m = mn;
    mt[t0 / ${r.tile}u] = mn;
  }
  let lse = m + log(l / ${wgslF32(r.pScale)});
  for (var t0 = 0u; t0 < lim; t0 += ${r.tile}u) {
    let f = exp(mt[t0 / ${r.tile}u] - m) / l;
    for (var k = t0; k < min(t0 + ${r.tile}u, lim); k++) {
      PE[o + k] = PE[o + k] * f;
      S[o + k] = exp(S[o + k] - lse);
    }
  }
  for (var k = lim; k < ${T}u; k++) { PE[o + k] = 0.0; S[o + k] = 0.0; }
}`;
}

/**
 * SageBwd's dS in place over dP [Z, T, T]: D = rowsum(dO∘O) (head dimension in order), dS = P∘(dP − D),
 * masked entries 0. One invocation per row. Bindings: 0 P, 1 dP (→ dS), 2 dO [per-head layout], 3 O.
 */
export function dsWgsl(dims: HeadDims, causal: boolean, keys: number, att: HeadLayout): string {
  const { batch, heads: H, T, hd } = dims;
  const Z = batch * H;
  const A = (arr: string) => `${arr}[${at(att, "z", "row", "d", H)}]`;
  return `@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read_write> G: array<f32>;
@group(0) @binding(2) var<storage, read> DO: array<f32>;
@group(0) @binding(3) var<storage, read> O: array<f32>;
${HEAD}
  if (i >= ${Z * T}u) { return; }
  let row = i % ${T}u;
  let z = i / ${T}u;
  let o = i * ${T}u;
  var D = 0.0;
  for (var d = 0u; d < ${hd}u; d++) { D = D + ${A("DO")} * ${A("O")}; }
  let lim = ${causal ? "row + 1u" : `${keys}u`};
  for (var k = 0u; k < lim; k++) { G[o + k] = P[o + k] * (G[o + k] - D); }
  for (var k = lim; k < ${T}u; k++) { G[o + k] = 0.0; }
}`;
}
