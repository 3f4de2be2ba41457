/**
 * WGSL generators for every non-GEMM op of the engine (forward and backward), one small function each.
 * Shapes are compile-time constants. Row-wise ops run one invocation per row (no workgroup memory,
 * no atomics: every reduction has a fixed order, so results are bit-reproducible).
 * Each has a TypeScript reference in lib/models/llama/reference.ts (DiT kernels: lib/layers/reference.ts) and a test in tests/engine_kernels_test.ts.
 * @module
 */
import { UNROLL_MAX, wgslFor } from "../formats/wgsl.ts";

/** Invocations per workgroup of every elementwise/row kernel. */
export const WG = 64;

/** Workgroup grid for `n` invocations, folded into 2-D when it exceeds the per-dimension limit. */
export function grid1d(n: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / WG));
  if (groups <= 32768) return [groups, 1, 1];
  const x = 32768;
  return [x, Math.ceil(groups / x), 1];
}

/** Floating literal for WGSL. */
export function flit(x: number): string {
  const s = String(Math.fround(x));
  return /[.e]/.test(s) ? s : s + ".0";
}

const HEAD = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid;`;

/** Embedding gather: X[m, :] = E[tok[m], :]. Bindings: 0 batch (u32, tokens first), 1 E, 2 X. */
export function embedFwd(M: number, D: number): string {
  const D4 = D / 4;
  return `@group(0) @binding(0) var<storage, read> tok: array<u32>;
@group(0) @binding(1) var<storage, read> E: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> X: array<vec4<f32>>;
${HEAD}
  if (i >= ${M * D4}u) { return; }
  let m = i / ${D4}u;
  let j = i % ${D4}u;
  X[i] = E[tok[m] * ${D4}u + j];
}`;
}

/**
 * Embedding gradient without atomics: dE[v, :] = Σ dX[p, :] over the positions p of token v, in
 * ascending order. The batch buffer holds (as u32) tokens[M], targets[M], offsets[V+1] at `offOff`,
 * positions[M] at `posOff` (CSR built on the CPU). Bindings: 0 batch, 1 dX, 2 dE.
 */
export function embedBwd(M: number, D: number, V: number, offOff: number, posOff: number): string {
  const D4 = D / 4;
  void M;
  return `@group(0) @binding(0) var<storage, read> bt: array<u32>;
@group(0) @binding(1) var<storage, read> dX: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dE: array<vec4<f32>>;
${HEAD}
  if (i >= ${V * D4}u) { return; }
  let v = i / ${D4}u;
  let j = i % ${D4}u;
  let a = bt[${offOff}u + v];
  let b = bt[${offOff}u + v + 1u];
  var s = vec4<f32>(0.0);
  for (var q = a; q < b; q++) { s += dX[bt[${posOff}u + q] * ${D4}u + j]; }
  dE[i] = s;
}`;
}

/** RMSNorm forward per row: Y = (X · r) · w, r = 1/sqrt(mean(X²) + eps). Bindings: 0 X, 1 w, 2 Y, 3 rstd. */
export function rmsFwd(M: number, D: number, eps: number): string {
  const D4 = D / 4;
  return `@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> W: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> R: array<f32>;
${HEAD}
  if (i >= ${M}u) { return; }
  let o = i * ${D4}u;
  var ss = 0.0;
  for (var j = 0u; j < ${D4}u; j++) { let x = X[o + j]; ss += dot(x, x); }
  let r = inverseSqrt(ss / ${flit(D)} + ${flit(eps)});
  R[i] = r;
  for (var j = 0u; j < ${D4}u; j++) { Y[o + j] = (X[o + j] * r) * W[j]; }
}`;
}

/**
 * RMSNorm backward per row: dX = r·(g − x̂·mean(g·x̂)) (+ dRes), g = dY·w, x̂ = X·r.
 * `residual`: dX is added to the existing contents of the output (the residual-stream gradient).
 * Bindings: 0 dY, 1 X, 2 w, 3 rstd, 4 dX (read_write).
 */
export function rmsBwd(M: number, D: number, residual: boolean): string {
  const D4 = D / 4;
  return `@group(0) @binding(0) var<storage, read> DY: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> W: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> R: array<f32>;
@group(0) @binding(4) var<storage, read_write> DX: array<vec4<f32>>;
${HEAD}
  if (i >= ${M}u) { return; }
  let o = i * ${D4}u;
  let r = R[i];
  var s = 0.0;
  for (var j = 0u; j < ${D4}u; j++) { s += dot(DY[o + j] * W[j], X[o + j] * r); }
  let c = s / ${flit(D)};
  for (var j = 0u; j < ${D4}u; j++) {
    let v = r * (DY[o + j] * W[j] - (X[o + j] * r) * c);
    DX[o + j] = ${residual ? "DX[o + j] + v" : "v"};
  }
}`;
}

/** RMSNorm weight gradient: dw[j] = Σ_m dY[m, j]·X[m, j]·r[m] (rows in order). Bindings: 0 dY, 1 X, 2 rstd, 3 dw. */
export function rmsDw(M: number, D: number): string {
  const D4 = D / 4;
  return `@group(0) @binding(0) var<storage, read> DY: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> R: array<f32>;
@group(0) @binding(3) var<storage, read_write> DW: array<vec4<f32>>;
${HEAD}
  if (i >= ${D4}u) { return; }
  var s = vec4<f32>(0.0);
  for (var m = 0u; m < ${M}u; m++) { s += DY[m * ${D4}u + i] * (X[m * ${D4}u + i] * R[m]); }
  DW[i] = s;
}`;
}

/**
 * Rotary embedding (rotate-half convention) applied in place to the q and k parts of a fused qkv
 * buffer [M, 3D] (heads are contiguous column blocks of `hd`). `inverse` applies the transpose (backward).
 * Bindings: 0 QKV (read_write), 1 table [T, hd/2] cos then [T, hd/2] sin.
 */
export function rope(M: number, T: number, D: number, hd: number, inverse: boolean): string {
  const half = hd / 2, h4 = half / 4;
  const H = D / hd;
  const n = M * 2 * H * h4;
  return `@group(0) @binding(0) var<storage, read_write> Q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> CS: array<vec4<f32>>;
${HEAD}
  if (i >= ${n}u) { return; }
  let e = i % ${h4}u;
  let hh = (i / ${h4}u) % ${2 * H}u;
  let m = i / ${2 * H * h4}u;
  let p = m % ${T}u;
  let c = CS[p * ${h4}u + e];
  let s = CS[${T * h4}u + p * ${h4}u + e];
  let o = (m * ${3 * D}u + hh * ${hd}u) / 4u + e;
  let a = Q[o];
  let b = Q[o + ${h4}u];
${
    inverse
      ? `  Q[o] = a * c + b * s;
  Q[o + ${h4}u] = b * c - a * s;`
      : `  Q[o] = a * c - b * s;
  Q[o + ${h4}u] = b * c + a * s;`
  }
}`;
}

/** Causal softmax in place over rows of S [Z, T, T] (row i keeps columns j ≤ i, zeroes the rest). Binding: 0 S. */
export function softmaxCausal(Z: number, T: number): string {
  const T4 = T / 4;
  return `@group(0) @binding(0) var<storage, read_write> S: array<vec4<f32>>;
${HEAD}
  if (i >= ${Z * T}u) { return; }
  let row = i % ${T}u;
  let o = i * ${T4}u;
  let lim = row / 4u;
  var mx = -3.0e38;
  for (var j = 0u; j <= lim; j++) {
    let idx = vec4<u32>(j * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
    let v = select(vec4<f32>(-3.0e38), S[o + j], idx <= vec4<u32>(row));
    mx = max(mx, max(max(v.x, v.y), max(v.z, v.w)));
  }
  var sum = 0.0;
  for (var j = 0u; j <= lim; j++) {
    let idx = vec4<u32>(j * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
    let e = select(vec4<f32>(0.0), exp(S[o + j] - mx), idx <= vec4<u32>(row));
    S[o + j] = e;
    sum += e.x + e.y + e.z + e.w;
  }
  let inv = 1.0 / sum;
  for (var j = 0u; j <= lim; j++) { S[o + j] = S[o + j] * inv; }
  for (var j = lim + 1u; j < ${T4}u; j++) { S[o + j] = vec4<f32>(0.0); }
}`;
}

/** Softmax backward in place: dS = P ⊙ (dP − Σ_j P·dP) per row. Bindings: 0 P, 1 dP (read_write → dS). */
export function softmaxBwd(Z: number, T: number): string {
  const T4 = T / 4;
  return `@group(0) @binding(0) var<storage, read> P: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> G: array<vec4<f32>>;
${HEAD}
  if (i >= ${Z * T}u) { return; }
  let row = i % ${T}u;
  let o = i * ${T4}u;
  let lim = row / 4u;
  var s = 0.0;
  for (var j = 0u; j <= lim; j++) { s += dot(P[o + j], G[o + j]); }
  for (var j = 0u; j <= lim; j++) { G[o + j] = P[o + j] * (G[o + j] - s); }
  // above the diagonal P is 0: write the zeros without reading (dP there may be stale: its GEMM skips those tiles)
  for (var j = lim + 1u; j < ${T4}u; j++) { G[o + j] = vec4<f32>(0.0); }
}`;
}

/**
 * SwiGLU forward: A[m, j] = silu(GU[m, j]) · GU[m, F + j]. Bindings: 0 GU [M, 2F], 1 A [M, F], and with
 * `tex` 2 an rgba32float storage texture of F/4 × M that receives A too (the next GEMM's operand, without a
 * separate copy pass).
 */
export function swigluFwd(M: number, F: number, tex = false): string {
  const F4 = F / 4;
  return `@group(0) @binding(0) var<storage, read> GU: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> A: array<vec4<f32>>;
${tex ? "@group(0) @binding(2) var AT: texture_storage_2d<rgba32float, write>;" : ""}
${HEAD}
  if (i >= ${M * F4}u) { return; }
  let m = i / ${F4}u;
  let j = i % ${F4}u;
  let g = GU[m * ${2 * F4}u + j];
  let u = GU[m * ${2 * F4}u + ${F4}u + j];
  let a = (g / (vec4<f32>(1.0) + exp(-g))) * u;
  A[i] = a;
  ${tex ? "textureStore(AT, vec2<i32>(i32(j), i32(m)), a);" : ""}
}`;
}

/** SwiGLU backward. Bindings: 0 GU, 1 dA [M, F], 2 dGU [M, 2F]. */
export function swigluBwd(M: number, F: number): string {
  const F4 = F / 4;
  return `@group(0) @binding(0) var<storage, read> GU: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> DA: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> DGU: array<vec4<f32>>;
${HEAD}
  if (i >= ${M * F4}u) { return; }
  let m = i / ${F4}u;
  let j = i % ${F4}u;
  let gi = m * ${2 * F4}u + j;
  let g = GU[gi];
  let u = GU[gi + ${F4}u];
  let d = DA[i];
  let sg = vec4<f32>(1.0) / (vec4<f32>(1.0) + exp(-g));
  DGU[gi] = d * u * (sg * (vec4<f32>(1.0) + g * (vec4<f32>(1.0) - sg)));
  DGU[gi + ${F4}u] = d * (g * sg);
}`;
}

/**
 * Cross-entropy per row over logits [M, V]: loss[m] = logsumexp − logit[target]; targets ≥ V (e.g. 0xffffffff)
 * are ignored (loss 0, gradient 0). With `grad`, the logits are overwritten by
 * (softmax − onehot) · gradScale. Bindings: 0 batch (u32; targets at `tgtOff`), 1 logits, 2 loss [M].
 */
export function crossEntropy(M: number, V: number, tgtOff: number, grad: boolean, gradScale: number): string {
  const V4 = V / 4;
  return `@group(0) @binding(0) var<storage, read> bt: array<u32>;
@group(0) @binding(1) var<storage, read_write> L: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
${HEAD}
  if (i >= ${M}u) { return; }
  let o = i * ${V4}u;
  let t = bt[${tgtOff}u + i];
  var mx = -3.0e38;
  for (var j = 0u; j < ${V4}u; j++) { let v = L[o + j]; mx = max(mx, max(max(v.x, v.y), max(v.z, v.w))); }
  var s = 0.0;
  for (var j = 0u; j < ${V4}u; j++) { let e = exp(L[o + j] - mx); s += (e.x + e.y) + (e.z + e.w); }
  let lse = mx + log(s);
  if (t >= ${V}u) {
    loss[i] = 0.0;
${grad ? `    for (var j = 0u; j < ${V4}u; j++) { L[o + j] = vec4<f32>(0.0); }` : ""}
    return;
  }
  let lt = L[o + t / 4u][t % 4u];
  loss[i] = lse - lt;
${
    grad
      ? `  for (var j = 0u; j < ${V4}u; j++) {
    let idx = vec4<u32>(j * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
    let p = exp(L[o + j] - lse) - select(vec4<f32>(0.0), vec4<f32>(1.0), idx == vec4<u32>(t));
    L[o + j] = p * ${flit(gradScale)};
  }`
      : ""
  }
}`;
}

/**
 * Sums `n` values in order in one invocation: out[slot] = scale·Σ (or out[slot] += Σ when `accumulate`).
 * Bindings: 0 values, 1 out.
 */
export function sumReduce(n: number, scale: number, slot: number, accumulate: boolean): string {
  return `@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> O: array<f32>;
${HEAD}
  if (i >= 1u) { return; }
  var s = 0.0;
  for (var j = 0u; j < ${n}u; j++) { s += X[j]; }
  O[${slot}u] = ${accumulate ? `O[${slot}u] + s` : `s * ${flit(scale)}`};
}`;
}

/** Gradient-norm stage 1: part[p] = Σ g² over vec4 chunk p of `chunk` words. Bindings: 0 g, 1 part. */
export function sumSquaresPartial(n4: number, chunk: number): string {
  const parts = Math.ceil(n4 / chunk);
  return `@group(0) @binding(0) var<storage, read> G: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> P: array<f32>;
${HEAD}
  if (i >= ${parts}u) { return; }
  let a = i * ${chunk}u;
  let b = min(a + ${chunk}u, ${n4}u);
  var s = 0.0;
  for (var j = a; j < b; j++) { let g = G[j]; s += dot(g, g); }
  P[i] = s;
}`;
}

/**
 * Gradient-norm stage 2: norm = sqrt(Σ parts); out[0] = norm, out[1] = clip coefficient
 * min(1, maxNorm/(norm + 1e-6)) (PyTorch clip_grad_norm_). Bindings: 0 parts, 1 out.
 */
export function clipCoef(parts: number, maxNorm: number): string {
  return `@group(0) @binding(0) var<storage, read> P: array<f32>;
@group(0) @binding(1) var<storage, read_write> O: array<f32>;
${HEAD}
  if (i >= 1u) { return; }
  var s = 0.0;
  for (var j = 0u; j < ${parts}u; j++) { s += P[j]; }
  let n = sqrt(s);
  O[0] = n;
  O[1] = min(1.0, ${flit(maxNorm)} / (n + 1e-6));
}`;
}

/**
 * AdamW (PyTorch semantics, decoupled decay) over n4 vec4 words. The step uniform holds
 * (lr, lr/bc1, sqrt(bc2), unused). Bindings: 0 params, 1 grads, 2 m, 3 v, 4 clip (norm, coef), 5 step uniform.
 */
export function adamw(n4: number, b1: number, b2: number, eps: number, wd: number): string {
  return `struct U { lr: f32, stepSize: f32, sqrtBc2: f32, pad: f32 };
@group(0) @binding(0) var<storage, read_write> Pm: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> G: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> M1: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> M2: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> C: array<f32>;
@group(0) @binding(5) var<uniform> u: U;
${HEAD}
  if (i >= ${n4}u) { return; }
  let g = G[i] * C[1];
  let m = ${flit(b1)} * M1[i] + ${flit(1 - b1)} * g;
  let v = ${flit(b2)} * M2[i] + ${flit(1 - b2)} * (g * g);
  M1[i] = m;
  M2[i] = v;
  var p = Pm[i];
${wd !== 0 ? `  p = p * (1.0 - u.lr * ${flit(wd)});` : ""}
  p = p - u.stepSize * (m / (sqrt(v) / u.sqrtBc2 + vec4<f32>(${flit(eps)})));
  Pm[i] = p;
}`;
}

/**
 * Operand "prepare" pass of the linear layer (see lib/layers/linear.ts): reads a row-major [R, C] operand,
 * hands groups of `group` values along the GEMM reduction axis (`axis` 1: along columns, 0: along rows)
 * to the scheme's WGSL `fn prep(v: ptr<function, array<f32, G>>, g: ptr<function, array<f32, G>>, seed: u32)`,
 * and writes the prepared operand (and, with `estimator`, the gradient multiplier).
 * Bindings: 0 src, 1 dst, 2 step uniform (u32 seed at offset 12), then 3 multiplier when `estimator`.
 */
export function prepare(
  R: number,
  C: number,
  axis: 0 | 1,
  group: number,
  prepWgsl: string,
  estimator: boolean,
  salt: number | "uniform",
): string {
  const groups = (R * C) / group;
  const unroll = group <= UNROLL_MAX;
  // A per-layer salt as a uniform keeps one pipeline per shape instead of one per layer (compile time).
  const saltBinding = estimator ? 4 : 3;
  const saltExpr = salt === "uniform" ? "SALT.x" : `${salt >>> 0}u`;
  const idx = axis === 1
    ? `let base = (gi / ${C / group}u) * ${C}u + (gi % ${C / group}u) * ${group}u; let stride = 1u;`
    : `let base = (gi / ${C}u) * ${group * C}u + (gi % ${C}u); let stride = ${C}u;`;
  return `struct U { lr: f32, stepSize: f32, sqrtBc2: f32, seed: u32 };
@group(0) @binding(0) var<storage, read> S: array<f32>;
@group(0) @binding(1) var<storage, read_write> O: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
${estimator ? "@group(0) @binding(3) var<storage, read_write> GM: array<f32>;" : ""}
${salt === "uniform" ? `@group(0) @binding(${saltBinding}) var<uniform> SALT: vec4<u32>;` : ""}
${prepWgsl}
fn mix32(x: u32) -> u32 {
  var h = x ^ (x >> 16u); h = h * 0x7feb352du; h = h ^ (h >> 15u); h = h * 0x846ca68bu; return h ^ (h >> 16u);
}
${HEAD.replace("let i =", "let gi =")}
  if (gi >= ${groups}u) { return; }
  ${idx}
  var v: array<f32, ${group}>;
  var g: array<f32, ${group}>;
  ${wgslFor("j", "0u", group, "v[j] = S[base + j * stride]; g[j] = 1.0;", unroll)}
  prep(&v, &g, mix32(u.seed ^ ${saltExpr} ^ mix32(gi)));
  ${wgslFor("j", "0u", group, "O[base + j * stride] = v[j];", unroll)}
  ${estimator ? wgslFor("j", "0u", group, "GM[base + j * stride] = g[j];", unroll) : ""}
}`;
}

/**
 * Copies a row-major [rows, 4·width] f32 buffer into an rgba32float storage texture of width × rows
 * (for operands whose row pitch is not a multiple of 256 bytes). Bindings: 0 src, 1 dst texture.
 */
export function toTexture(rows: number, width: number): string {
  return `@group(0) @binding(0) var<storage, read> S: array<vec4<f32>>;
@group(0) @binding(1) var D: texture_storage_2d<rgba32float, write>;
${HEAD}
  if (i >= ${rows * width}u) { return; }
  textureStore(D, vec2<i32>(i32(i % ${width}u), i32(i / ${width}u)), S[i]);
}`;
}

/**
 * Rounds a row-major [rows, 8·width] f32 buffer to BF16 (with the given WGSL `fn bf16_round`) and packs
 * pairs into an rgba32uint storage texture of width × rows (low half = even element), the operand format of
 * the `bf16` GEMM. Bindings: 0 src, 1 dst texture.
 */
export function packBf16(rows: number, width: number, roundWgsl: string): string {
  return `@group(0) @binding(0) var<storage, read> S: array<vec4<f32>>;
@group(0) @binding(1) var D: texture_storage_2d<rgba32uint, write>;
${roundWgsl}
fn pk(a: f32, b: f32) -> u32 {
  return (bitcast<u32>(bf16_round(a)) >> 16u) | (bitcast<u32>(bf16_round(b)) & 0xffff0000u);
}
${HEAD}
  if (i >= ${rows * width}u) { return; }
  let x = S[2u * i];
  let y = S[2u * i + 1u];
  textureStore(D, vec2<i32>(i32(i % ${width}u), i32(i / ${width}u)), vec4<u32>(pk(x.x, x.y), pk(x.z, x.w), pk(y.x, y.y), pk(y.z, y.w)));
}`;
}

// ---- kernels of the DiT layers (TypeScript references in lib/layers/reference.ts) ----

/** Bias add in place: Y[m, n] += b[n]. Bindings: 0 Y [M, N] (read_write), 1 b [N]. */
export function biasAdd(M: number, N: number): string {
  const N4 = N / 4;
  return `@group(0) @binding(0) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;
${HEAD}
  if (i >= ${M * N4}u) { return; }
  Y[i] = Y[i] + B[i % ${N4}u];
}`;
}

/** Bias gradient: db[n] = Σ_m dY[m, n] (rows in order). Bindings: 0 dY [M, N], 1 db [N]. */
export function biasGrad(M: number, N: number): string {
  const N4 = N / 4;
  return `@group(0) @binding(0) var<storage, read> DY: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> DB: array<vec4<f32>>;
${HEAD}
  if (i >= ${N4}u) { return; }
  var s = vec4<f32>(0.0);
  for (var m = 0u; m < ${M}u; m++) { s += DY[m * ${N4}u + i]; }
  DB[i] = s;
}`;
}

/**
 * Bidirectional softmax in place over rows of S [Z, T, T]; columns ≥ `keys` (padding tokens) get probability 0.
 * Binding: 0 S.
 */
export function softmaxFull(Z: number, T: number, keys = T): string {
  const T4 = T / 4;
  return `@group(0) @binding(0) var<storage, read_write> S: array<vec4<f32>>;
${HEAD}
  if (i >= ${Z * T}u) { return; }
  let o = i * ${T4}u;
  var mx = -3.0e38;
  for (var j = 0u; j < ${T4}u; j++) {
    let idx = vec4<u32>(j * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
    let v = select(vec4<f32>(-3.0e38), S[o + j], idx < vec4<u32>(${keys}u));
    mx = max(mx, max(max(v.x, v.y), max(v.z, v.w)));
  }
  var sum = 0.0;
  for (var j = 0u; j < ${T4}u; j++) {
    let idx = vec4<u32>(j * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
    let e = select(vec4<f32>(0.0), exp(S[o + j] - mx), idx < vec4<u32>(${keys}u));
    S[o + j] = e;
    sum += e.x + e.y + e.z + e.w;
  }
  let inv = 1.0 / sum;
  for (var j = 0u; j < ${T4}u; j++) { S[o + j] = S[o + j] * inv; }
}`;
}

/** Bidirectional softmax backward in place: dS = P ⊙ (dP − Σ_j P·dP). Bindings: 0 P, 1 dP (→ dS). */
export function softmaxFullBwd(Z: number, T: number): string {
  const T4 = T / 4;
  return `@group(0) @binding(0) var<storage, read> P: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> G: array<vec4<f32>>;
${HEAD}
  if (i >= ${Z * T}u) { return; }
  let o = i * ${T4}u;
  var s = 0.0;
  for (var j = 0u; j < ${T4}u; j++) { s += dot(P[o + j], G[o + j]); }
  for (var j = 0u; j < ${T4}u; j++) { G[o + j] = P[o + j] * (G[o + j] - s); }
}`;
}

/**
 * LayerNorm (no affine) + adaLN modulation per row m of sample b = m / T:
 * Y = x̂·(1 + mod[b, scaleAt + j]) + mod[b, shiftAt + j], x̂ = (X − μ)·rstd. Stores (μ, rstd) per row.
 * Bindings: 0 X [B·T, D], 1 mod [B, stride], 2 Y, 3 stats [B·T, 2].
 */
export function lnModFwd(
  B: number,
  T: number,
  D: number,
  eps: number,
  stride: number,
  shiftAt: number,
  scaleAt: number,
): string {
  const D4 = D / 4, S4 = stride / 4;
  return `@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> MD: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> ST: array<f32>;
${HEAD}
  if (i >= ${B * T}u) { return; }
  let o = i * ${D4}u;
  let mb = (i / ${T}u) * ${S4}u;
  var s = 0.0;
  for (var j = 0u; j < ${D4}u; j++) { let x = X[o + j]; s += (x.x + x.y) + (x.z + x.w); }
  let mu = s / ${flit(D)};
  var ss = 0.0;
  for (var j = 0u; j < ${D4}u; j++) { let c = X[o + j] - vec4<f32>(mu); ss += dot(c, c); }
  let r = inverseSqrt(ss / ${flit(D)} + ${flit(eps)});
  ST[2u * i] = mu;
  ST[2u * i + 1u] = r;
  for (var j = 0u; j < ${D4}u; j++) {
    let xh = (X[o + j] - vec4<f32>(mu)) * r;
    Y[o + j] = xh * (vec4<f32>(1.0) + MD[mb + ${scaleAt / 4}u + j]) + MD[mb + ${shiftAt / 4}u + j];
  }
}`;
}

/**
 * adaLN modulation gradients per sample b and column j: dshift = Σ_t dY, dscale = Σ_t dY·x̂ (tokens in
 * order), written into dmod [B, stride] at the shift and scale columns. Bindings: 0 dY, 1 X, 2 stats, 3 dmod.
 */
export function lnModDmod(
  B: number,
  T: number,
  D: number,
  stride: number,
  shiftAt: number,
  scaleAt: number,
): string {
  const D4 = D / 4, S4 = stride / 4;
  return `@group(0) @binding(0) var<storage, read> DY: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> ST: array<f32>;
@group(0) @binding(3) var<storage, read_write> DM: array<vec4<f32>>;
${HEAD}
  if (i >= ${B * D4}u) { return; }
  let b = i / ${D4}u;
  let j = i % ${D4}u;
  var sh = vec4<f32>(0.0);
  var sc = vec4<f32>(0.0);
  for (var t = 0u; t < ${T}u; t++) {
    let m = b * ${T}u + t;
    let dy = DY[m * ${D4}u + j];
    sh += dy;
    sc += dy * ((X[m * ${D4}u + j] - vec4<f32>(ST[2u * m])) * ST[2u * m + 1u]);
  }
  DM[b * ${S4}u + ${shiftAt / 4}u + j] = sh;
  DM[b * ${S4}u + ${scaleAt / 4}u + j] = sc;
}`;
}

/**
 * LayerNorm + modulation backward to X per row: g = dY·(1 + scale), dX = rstd·(g − mean(g) − x̂·mean(g·x̂))
 * (added to dX's contents when `accumulate`). Bindings: 0 dY, 1 X, 2 mod, 3 stats, 4 dX.
 */
export function lnModBwd(
  B: number,
  T: number,
  D: number,
  stride: number,
  scaleAt: number,
  accumulate: boolean,
): string {
  const D4 = D / 4, S4 = stride / 4;
  return `@group(0) @binding(0) var<storage, read> DY: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> MD: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> ST: array<f32>;
@group(0) @binding(4) var<storage, read_write> DX: array<vec4<f32>>;
${HEAD}
  if (i >= ${B * T}u) { return; }
  let o = i * ${D4}u;
  let mb = (i / ${T}u) * ${S4}u + ${scaleAt / 4}u;
  let mu = ST[2u * i];
  let r = ST[2u * i + 1u];
  var sg = 0.0;
  var sgx = 0.0;
  for (var j = 0u; j < ${D4}u; j++) {
    let g = DY[o + j] * (vec4<f32>(1.0) + MD[mb + j]);
    let xh = (X[o + j] - vec4<f32>(mu)) * r;
    sg += (g.x + g.y) + (g.z + g.w);
    sgx += dot(g, xh);
  }
  let a = sg / ${flit(D)};
  let c = sgx / ${flit(D)};
  for (var j = 0u; j < ${D4}u; j++) {
    let g = DY[o + j] * (vec4<f32>(1.0) + MD[mb + j]);
    let xh = (X[o + j] - vec4<f32>(mu)) * r;
    let v = r * (g - vec4<f32>(a) - xh * c);
    DX[o + j] = ${accumulate ? "DX[o + j] + v" : "v"};
  }
}`;
}

/** GELU, tanh approximation: A = 0.5·h·(1 + tanh(√(2/π)·(h + 0.044715·h³))). Bindings: 0 H, 1 A. */
export function geluFwd(n: number): string {
  return `@group(0) @binding(0) var<storage, read> H: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> A: array<vec4<f32>>;
${HEAD}
  if (i >= ${n / 4}u) { return; }
  let h = H[i];
  let u = 0.7978845608028654 * (h + 0.044715 * h * h * h);
  A[i] = 0.5 * h * (vec4<f32>(1.0) + tanh(u));
}`;
}

/** GELU-tanh backward: dH = dA·gelu'(H). Bindings: 0 H, 1 dA, 2 dH. */
export function geluBwd(n: number): string {
  return `@group(0) @binding(0) var<storage, read> H: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> DA: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> DH: array<vec4<f32>>;
${HEAD}
  if (i >= ${n / 4}u) { return; }
  let h = H[i];
  let u = 0.7978845608028654 * (h + 0.044715 * h * h * h);
  let t = tanh(u);
  let du = 0.7978845608028654 * (vec4<f32>(1.0) + 3.0 * 0.044715 * h * h);
  DH[i] = DA[i] * (0.5 * (vec4<f32>(1.0) + t) + 0.5 * h * (vec4<f32>(1.0) - t * t) * du);
}`;
}

/** SiLU: A = h·σ(h). Bindings: 0 H, 1 A. */
export function siluFwd(n: number): string {
  return `@group(0) @binding(0) var<storage, read> H: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> A: array<vec4<f32>>;
${HEAD}
  if (i >= ${n / 4}u) { return; }
  let h = H[i];
  A[i] = h / (vec4<f32>(1.0) + exp(-h));
}`;
}

/** SiLU backward: dH = dA·σ(h)(1 + h(1 − σ(h))) (added to dH's contents when `accumulate`). Bindings: 0 H, 1 dA, 2 dH. */
export function siluBwd(n: number, accumulate = false): string {
  return `@group(0) @binding(0) var<storage, read> H: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> DA: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> DH: array<vec4<f32>>;
${HEAD}
  if (i >= ${n / 4}u) { return; }
  let h = H[i];
  let s = vec4<f32>(1.0) / (vec4<f32>(1.0) + exp(-h));
  let v = DA[i] * (s * (vec4<f32>(1.0) + h * (vec4<f32>(1.0) - s)));
  DH[i] = ${accumulate ? "DH[i] + v" : "v"};
}`;
}

/**
 * Gated residual (adaLN-Zero): Y[m, j] = X[m, j] + mod[b, gateAt + j]·H[m, j], b = m / T.
 * Bindings: 0 X, 1 mod [B, stride], 2 H, 3 Y.
 */
export function gateFwd(B: number, T: number, D: number, stride: number, gateAt: number): string {
  const D4 = D / 4, S4 = stride / 4;
  return `@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> MD: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> H: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<vec4<f32>>;
${HEAD}
  if (i >= ${B * T * D4}u) { return; }
  let m = i / ${D4}u;
  let j = i % ${D4}u;
  Y[i] = X[i] + MD[(m / ${T}u) * ${S4}u + ${gateAt / 4}u + j] * H[i];
}`;
}

/** Gated residual backward to H: dH = gate·dY. Bindings: 0 dY, 1 mod, 2 dH. */
export function gateBwdH(B: number, T: number, D: number, stride: number, gateAt: number): string {
  const D4 = D / 4, S4 = stride / 4;
  return `@group(0) @binding(0) var<storage, read> DY: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> MD: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> DH: array<vec4<f32>>;
${HEAD}
  if (i >= ${B * T * D4}u) { return; }
  let m = i / ${D4}u;
  let j = i % ${D4}u;
  DH[i] = MD[(m / ${T}u) * ${S4}u + ${gateAt / 4}u + j] * DY[i];
}`;
}

/** Gated residual backward to the gate: dgate[b, j] = Σ_t dY·H (tokens in order). Bindings: 0 dY, 1 H, 2 dmod. */
export function gateBwdGate(B: number, T: number, D: number, stride: number, gateAt: number): string {
  const D4 = D / 4, S4 = stride / 4;
  return `@group(0) @binding(0) var<storage, read> DY: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> H: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> DM: array<vec4<f32>>;
${HEAD}
  if (i >= ${B * D4}u) { return; }
  let b = i / ${D4}u;
  let j = i % ${D4}u;
  var s = vec4<f32>(0.0);
  for (var t = 0u; t < ${T}u; t++) { let k = (b * ${T}u + t) * ${D4}u + j; s += DY[k] * H[k]; }
  DM[b * ${S4}u + ${gateAt / 4}u + j] = s;
}`;
}

/**
 * Squared error per row: loss[m] = Σ_j (Y − E)²; with `grad`, Y is overwritten by 2(Y − E)·gradScale. Rows
 * whose index within a group of `T` is ≥ `real` (padding tokens) get loss 0 and gradient 0.
 * Bindings: 0 Y [M, N] (read_write), 1 E [M, N], 2 loss [M].
 */
export function mseRows(M: number, N: number, grad: boolean, gradScale: number, T = M, real = T): string {
  const N4 = N / 4;
  return `@group(0) @binding(0) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> E: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
${HEAD}
  if (i >= ${M}u) { return; }
  let o = i * ${N4}u;
  if (i % ${T}u >= ${real}u) {
    loss[i] = 0.0;
${grad ? `    for (var j = 0u; j < ${N4}u; j++) { Y[o + j] = vec4<f32>(0.0); }` : ""}
    return;
  }
  var s = 0.0;
  for (var j = 0u; j < ${N4}u; j++) {
    let e = Y[o + j] - E[o + j];
    s += dot(e, e);
${grad ? `    Y[o + j] = e * ${flit(2 * gradScale)};` : ""}
  }
  loss[i] = s;
}`;
}

/** Y += B elementwise over n floats (n a multiple of 4). Bindings: 0 Y (read_write), 1 B. */
export function addInto(n: number): string {
  return `@group(0) @binding(0) var<storage, read_write> Y: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;
${HEAD}
  if (i >= ${n / 4}u) { return; }
  Y[i] = Y[i] + B[i];
}`;
}
