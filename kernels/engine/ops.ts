/**
 * WGSL generators for every non-GEMM op of the engine (forward and backward), one small function each.
 * Shapes are compile-time constants. Row-wise ops run one invocation per row (no workgroup memory,
 * no atomics: every reduction has a fixed order, so results are bit-reproducible).
 * Each has a TypeScript reference in lib/models/llama/reference.ts (DiT kernels: lib/layers/reference.ts) and a test in tests/engine_kernels_test.ts.
 *
 * Packed runs (lib/engine/pack.ts): K runs of one shape train in one program, their activations stacked as
 * a K·B batch (run-major rows) and their parameters, gradients and AdamW moments as K slabs of `stride`
 * floats each (run r's tensor at `r·stride + offset`). The kernels that touch per-run state take a `runs`
 * parameter: with K > 1 every output of run r is computed by the same sequence of operations over the same
 * values of run r as with one run, in the same order — only the addresses gain a run offset. That is what
 * makes a packed run bit-identical to the run alone (tests/engine_pack_test.ts). With one run (the default)
 * they generate the single-run kernel. Kernels that never touch per-run state (elementwise ops, softmax,
 * rope, the cross-entropy rows, attention GEMMs) need no `runs`: they run over K·M rows unchanged.
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

/** Entry point of a 1-D kernel: invocation index `v` over the (2-D folded) grid of {@link grid1d}. */
export function kernelHead(v = "i"): string {
  return `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let ${v} = (wid.y * nwg.x + wid.x) * ${WG}u + lid;`;
}

const HEAD = kernelHead();

/**
 * Declarations of storage bindings 0, 1, … in order, one per entry: "NAME" (read-only `array<vec4<f32>>`) or
 * "NAME: ELEM" (`array<ELEM>`), either one prefixed "rw " to be read_write.
 */
function storage(...entries: string[]): string {
  return entries.map((e, n) => {
    const rw = e.startsWith("rw "), [name, elem = "vec4<f32>"] = (rw ? e.slice(3) : e).split(": ");
    return `@group(0) @binding(${n}) var<storage, ${rw ? "read_write" : "read"}> ${name}: array<${elem}>;`;
  }).join("\n");
}

/** K packed runs: their number and the floats between one run's parameter slab and the next. */
export interface PackedRuns {
  /** Number of runs K (1: the single-run kernel). */
  runs: number;
  /** Floats between one run's tensor and the next. */
  stride: number;
}

/** The packed runs of `runs`, or undefined for one run (absent or K = 1). */
function packed(runs?: PackedRuns): PackedRuns | undefined {
  return runs && runs.runs > 1 ? runs : undefined;
}

/**
 * The step record the kernels read (lr, lr/bc1, sqrt(bc2), seed), at `binding`: one uniform for one run;
 * with K runs a storage array of K records and a private `u` the kernel sets to its run's record.
 */
export function stepRecord(binding: number, runs: boolean): string {
  return runs
    ? `@group(0) @binding(${binding}) var<storage, read> US: array<U>;`
    : `@group(0) @binding(${binding}) var<uniform> u: U;`;
}

/**
 * Embedding gather: X[m, :] = E[tok[m], :]; with K runs, row m reads run m / M's table. Bindings: 0 batch
 * (u32, tokens first), 1 E (K runs: run 0's table slice, covering every run), 2 X [K·M, D].
 */
export function embedFwd(M: number, D: number, runs?: PackedRuns): string {
  const D4 = D / 4, p = packed(runs), k = p?.runs ?? 1;
  return `${storage("tok: u32", "E", "rw X")}
${HEAD}
  if (i >= ${k * M * D4}u) { return; }
  let m = i / ${D4}u;
  let j = i % ${D4}u;
  X[i] = E[${p ? `(m / ${M}u) * ${p.stride / 4}u + ` : ""}tok[m] * ${D4}u + j];
}`;
}

/**
 * Embedding gradient without atomics: dE[v, :] = Σ dX[p, :] over the positions p of token v, in
 * ascending order. The batch buffer holds (as u32) tokens[M], targets[M], offsets[V+1] at `offOff`,
 * positions[M] at `posOff` (CSR built on the CPU). With K runs (lib/layers/embedding.ts `runIdLayout`)
 * those are run 0's CSR, run r's lies r·(V + 1 + M) words further with positions local to the run, and
 * each run's gradient goes to its own table. Bindings: 0 batch, 1 dX, 2 dE (K runs: run 0's slice,
 * covering every run).
 */
export function embedBwd(
  M: number,
  D: number,
  V: number,
  offOff: number,
  posOff: number,
  runs?: PackedRuns,
): string {
  const D4 = D / 4, p = packed(runs), k = p?.runs ?? 1, c = p ? "c" : `${offOff}u`;
  return `${storage("bt: u32", "dX", "rw dE")}
${HEAD}
  if (i >= ${k * V * D4}u) { return; }
${p ? `  let r = i / ${V * D4}u;\n  let v = (i / ${D4}u) % ${V}u;` : `  let v = i / ${D4}u;`}
  let j = i % ${D4}u;
${p ? `  let c = ${offOff}u + r * ${V + 1 + M}u;\n` : ""}  let a = bt[${c} + v];
  let b = bt[${c} + v + 1u];
  var s = vec4<f32>(0.0);
  for (var q = a; q < b; q++) { s += dX[${
    p ? `(r * ${M}u + bt[c + ${posOff - offOff}u + q])` : `bt[${posOff}u + q]`
  } * ${D4}u + j]; }
  dE[${p ? `r * ${p.stride / 4}u + v * ${D4}u + j` : "i"}] = s;
}`;
}

/** `let w` = the offset of row i's run's weight (K runs), and the index prefix that reads it. */
function runWeight(M: number, p?: PackedRuns): [string, string] {
  return p ? [`  let w = (i / ${M}u) * ${p.stride / 4}u;\n`, "w + "] : ["", ""];
}

/**
 * RMSNorm forward per row: Y = (X · r) · w, r = 1/sqrt(mean(X²) + eps); with K runs, run r's rows use
 * run r's weight. Bindings: 0 X, 1 w (K runs: run 0's slice, covering every run), 2 Y, 3 rstd.
 */
export function rmsFwd(M: number, D: number, eps: number, runs?: PackedRuns): string {
  const D4 = D / 4, p = packed(runs), [wLet, w] = runWeight(M, p);
  return `${storage("X", "W", "rw Y", "rw R: f32")}
${HEAD}
  if (i >= ${(p?.runs ?? 1) * M}u) { return; }
  let o = i * ${D4}u;
${wLet}  var ss = 0.0;
  for (var j = 0u; j < ${D4}u; j++) { let x = X[o + j]; ss += dot(x, x); }
  let r = inverseSqrt(ss / ${flit(D)} + ${flit(eps)});
  R[i] = r;
  for (var j = 0u; j < ${D4}u; j++) { Y[o + j] = (X[o + j] * r) * W[${w}j]; }
}`;
}

/**
 * RMSNorm backward per row: dX = r·(g − x̂·mean(g·x̂)) (+ dRes), g = dY·w, x̂ = X·r.
 * `residual`: dX is added to the existing contents of the output (the residual-stream gradient).
 * Bindings: 0 dY, 1 X, 2 w (K runs: as {@link rmsFwd}), 3 rstd, 4 dX (read_write).
 */
export function rmsBwd(M: number, D: number, residual: boolean, runs?: PackedRuns): string {
  const D4 = D / 4, p = packed(runs), [wLet, w] = runWeight(M, p);
  return `${storage("DY", "X", "W", "R: f32", "rw DX")}
${HEAD}
  if (i >= ${(p?.runs ?? 1) * M}u) { return; }
  let o = i * ${D4}u;
${wLet}  let r = R[i];
  var s = 0.0;
  for (var j = 0u; j < ${D4}u; j++) { s += dot(DY[o + j] * W[${w}j], X[o + j] * r); }
  let c = s / ${flit(D)};
  for (var j = 0u; j < ${D4}u; j++) {
    let v = r * (DY[o + j] * W[${w}j] - (X[o + j] * r) * c);
    DX[o + j] = ${residual ? "DX[o + j] + v" : "v"};
  }
}`;
}

/**
 * RMSNorm weight gradient: dw[j] = Σ_m dY[m, j]·X[m, j]·r[m] (rows in order; K runs: each over its own M
 * rows, into its own dw). Bindings: 0 dY, 1 X, 2 rstd, 3 dw (K runs: run 0's slice, covering every run).
 */
export function rmsDw(M: number, D: number, runs?: PackedRuns): string {
  const D4 = D / 4, p = packed(runs), j = p ? "j" : "i", rows = p ? `m0; m < m0 + ${M}u` : `0u; m < ${M}u`;
  return `${storage("DY", "X", "R: f32", "rw DW")}
${HEAD}
  if (i >= ${(p?.runs ?? 1) * D4}u) { return; }
${p ? `  let r = i / ${D4}u;\n  let j = i % ${D4}u;\n  let m0 = r * ${M}u;\n` : ""}  var s = vec4<f32>(0.0);
  for (var m = ${rows}; m++) { s += DY[m * ${D4}u + ${j}] * (X[m * ${D4}u + ${j}] * R[m]); }
  DW[${p ? `r * ${p.stride / 4}u + j` : "i"}] = s;
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
  return `${storage("rw Q", "CS")}
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
  return `${storage("rw S")}
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
  return `${storage("P", "rw G")}
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
  return `${storage("GU", "rw A")}
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
  return `${storage("GU", "DA", "rw DGU")}
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
  return `${storage("bt: u32", "rw L", "rw loss: f32")}
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

/** The bounds of `runs` ordered ranges of `n` values, range i per invocation i (one run: the one range). */
function runRange(n: number, runs: number): string {
  return runs > 1 ? `i * ${n}u; j < i * ${n}u + ${n}u` : `0u; j < ${n}u`;
}

/**
 * Sums `n` values in order in one invocation: out[slot] = scale·Σ (or out[slot] += Σ when `accumulate`);
 * with K runs, invocation r sums run r's `n` values into out[4r + slot]. Bindings: 0 values [K·n], 1 out
 * [K·4].
 */
export function sumReduce(n: number, scale: number, slot: number, accumulate: boolean, runs = 1): string {
  const o = runs > 1 ? "o" : `${slot}u`, val = accumulate ? `O[${o}] + s` : `s * ${flit(scale)}`;
  return `${storage("X: f32", "rw O: f32")}
${HEAD}
  if (i >= ${runs}u) { return; }
  var s = 0.0;
  for (var j = ${runRange(n, runs)}; j++) { s += X[j]; }
${runs > 1 ? `  let o = i * 4u + ${slot}u;\n` : ""}  O[${o}] = ${val};
}`;
}

/**
 * Gradient-norm stage 1: part[p] = Σ g² over vec4 chunk p of `chunk` words (K runs: the chunks of each
 * run's `n4` words, as for the run alone). Bindings: 0 g, 1 part.
 */
export function sumSquaresPartial(n4: number, chunk: number, runs = 1): string {
  const parts = Math.ceil(n4 / chunk);
  return `${storage("G", "rw P: f32")}
${HEAD}
  if (i >= ${runs * parts}u) { return; }
${
    runs > 1
      ? `  let r = i / ${parts}u;
  let p = i % ${parts}u;
  let a = r * ${n4}u + p * ${chunk}u;
  let b = r * ${n4}u + min(p * ${chunk}u + ${chunk}u, ${n4}u);`
      : `  let a = i * ${chunk}u;
  let b = min(a + ${chunk}u, ${n4}u);`
  }
  var s = 0.0;
  for (var j = a; j < b; j++) { let g = G[j]; s += dot(g, g); }
  P[i] = s;
}`;
}

/**
 * Gradient-norm stage 2: norm = sqrt(Σ parts); out[0] = norm, out[1] = clip coefficient
 * min(1, maxNorm/(norm + 1e-6)) (PyTorch clip_grad_norm_); K runs: out[4r], out[4r + 1] from run r's
 * `parts`. Bindings: 0 parts, 1 out.
 */
export function clipCoef(parts: number, maxNorm: number, runs = 1): string {
  const o = runs > 1 ? "i * 4u" : "0";
  return `${storage("P: f32", "rw O: f32")}
${HEAD}
  if (i >= ${runs}u) { return; }
  var s = 0.0;
  for (var j = ${runRange(parts, runs)}; j++) { s += P[j]; }
  let n = sqrt(s);
  O[${o}] = n;
  O[${runs > 1 ? `${o} + 1u` : "1"}] = min(1.0, ${flit(maxNorm)} / (n + 1e-6));
}`;
}

/**
 * AdamW (PyTorch semantics, decoupled decay) over n4 vec4 words; the step record holds
 * (lr, lr/bc1, sqrt(bc2), unused). One run: the whole range decays when `wd` ≠ 0 (callers record the
 * decayed and the other range apart). K runs: their whole slabs of n4 words each, the first `decay4` of
 * each with weight decay, run r with its own step record and clip coefficient.
 * Bindings: 0 params, 1 grads, 2 m, 3 v, 4 clip (norm, coef; K runs: [K·4]), 5 step uniform (K runs: the
 * records [K]).
 */
export function adamw(
  n4: number,
  b1: number,
  b2: number,
  eps: number,
  wd: number,
  runs = 1,
  decay4 = n4,
): string {
  const p = runs > 1;
  return `struct U { lr: f32, stepSize: f32, sqrtBc2: f32, pad: f32 };
${storage("rw Pm", "G", "rw M1", "rw M2", "C: f32")}
${stepRecord(5, p)}
${HEAD}
  if (i >= ${runs * n4}u) { return; }
${p ? `  let r = i / ${n4}u;\n  let u = US[r];\n` : ""}  let g = G[i] * C[${p ? "r * 4u + 1u" : "1"}];
  let m = ${flit(b1)} * M1[i] + ${flit(1 - b1)} * g;
  let v = ${flit(b2)} * M2[i] + ${flit(1 - b2)} * (g * g);
  M1[i] = m;
  M2[i] = v;
  var p = Pm[i];
${
    p
      ? `  if (i % ${n4}u < ${decay4}u) { p = p * (1.0 - u.lr * ${flit(wd)}); }`
      : wd !== 0
      ? `  p = p * (1.0 - u.lr * ${flit(wd)});`
      : ""
  }
  p = p - u.stepSize * (m / (sqrt(v) / u.sqrtBc2 + vec4<f32>(${flit(eps)})));
  Pm[i] = p;
}`;
}

/**
 * Operand "prepare" pass of the linear layer (see lib/layers/linear.ts): reads a row-major [R, C] operand,
 * hands groups of `group` values along the GEMM reduction axis (`axis` 1: along columns, 0: along rows)
 * to the scheme's WGSL `fn prep(v: ptr<function, array<f32, G>>, g: ptr<function, array<f32, G>>, seed: u32)`,
 * and writes the prepared operand (and, with `estimator`, the gradient multiplier).
 * Bindings: 0 src, 1 dst, 2 step uniform (u32 seed at offset 12), then 3 multiplier when `estimator`, then
 * the salt uniform when `salt` is "uniform".
 * K runs (salt "uniform" only): group gi of run r = gi / groups reads run r's [R, C] source at float
 * `r·runs.stride`, writes the prepared operand (and multiplier) at `r·R·C`, and gets the seed run r would get
 * alone: its own step record (binding 2 holds K, also what per-step Hadamard signs read) and its local group
 * index.
 */
export function prepare(
  R: number,
  C: number,
  axis: 0 | 1,
  group: number,
  prepWgsl: string,
  estimator: boolean,
  salt: number | "uniform",
  runs?: PackedRuns,
): string {
  const groups = (R * C) / group, p = packed(runs), k = p?.runs ?? 1;
  if (p && salt !== "uniform") throw new Error("prepare: packed runs take the salt as a uniform");
  const unroll = group <= UNROLL_MAX;
  // A per-layer salt as a uniform keeps one pipeline per shape instead of one per layer (compile time).
  const saltBinding = estimator ? 4 : 3;
  const saltExpr = salt === "uniform" ? "SALT.x" : `${salt >>> 0}u`;
  const g = p ? "gl" : "gi", [sb, ob] = p ? ["sb", "ob"] : ["base", "base"];
  const runBase = p ? `  let sb = r * ${p.stride}u + base;\n  let ob = r * ${R * C}u + base;\n` : "";
  const idx = axis === 1
    ? `let base = (${g} / ${C / group}u) * ${C}u + (${g} % ${C / group}u) * ${group}u; let stride = 1u;`
    : `let base = (${g} / ${C}u) * ${group * C}u + (${g} % ${C}u); let stride = ${C}u;`;
  return `struct U { lr: f32, stepSize: f32, sqrtBc2: f32, seed: u32 };
${storage("S: f32", "rw O: f32")}
${stepRecord(2, !!p)}
${estimator ? "@group(0) @binding(3) var<storage, read_write> GM: array<f32>;" : ""}
${salt === "uniform" ? `@group(0) @binding(${saltBinding}) var<uniform> SALT: vec4<u32>;` : ""}
${p ? "var<private> u: U;\n" : ""}${prepWgsl}
fn mix32(x: u32) -> u32 {
  var h = x ^ (x >> 16u); h = h * 0x7feb352du; h = h ^ (h >> 15u); h = h * 0x846ca68bu; return h ^ (h >> 16u);
}
${kernelHead("gi")}
  if (gi >= ${k * groups}u) { return; }
${p ? `  let r = gi / ${groups}u;\n  let gl = gi % ${groups}u;\n  u = US[r];\n` : ""}  ${idx}
${runBase}  var v: array<f32, ${group}>;
  var g: array<f32, ${group}>;
  ${wgslFor("j", "0u", group, `v[j] = S[${sb} + j * stride]; g[j] = 1.0;`, unroll)}
  prep(&v, &g, mix32(u.seed ^ ${saltExpr} ^ mix32(${g})));
  ${wgslFor("j", "0u", group, `O[${ob} + j * stride] = v[j];`, unroll)}
  ${estimator ? wgslFor("j", "0u", group, `GM[${ob} + j * stride] = g[j];`, unroll) : ""}
}`;
}

/**
 * Source word of invocation i: `scale`·i; K runs (`n` invocations each, sources `stride` floats apart): word
 * `scale`·(i % n) of run i / n's source.
 */
function runElement(n: number, p: PackedRuns | undefined, scale = ""): string {
  return p ? `(i / ${n}u) * ${p.stride / 4}u + ${scale}(i % ${n}u)` : `${scale}i`;
}

/**
 * Copies a row-major [rows, 4·width] f32 buffer into an rgba32float storage texture of width × rows
 * (for operands whose row pitch is not a multiple of 256 bytes); K runs: run r's tensor at float r·stride
 * goes to rows r·rows… of a texture of K·rows rows. Bindings: 0 src, 1 dst texture.
 */
export function toTexture(rows: number, width: number, runs?: PackedRuns): string {
  const n = rows * width, p = packed(runs);
  return `${storage("S")}
@group(0) @binding(1) var D: texture_storage_2d<rgba32float, write>;
${HEAD}
  if (i >= ${(p?.runs ?? 1) * n}u) { return; }
  textureStore(D, vec2<i32>(i32(i % ${width}u), i32(i / ${width}u)), S[${runElement(n, p)}]);
}`;
}

/**
 * Rounds a row-major [rows, 8·width] f32 buffer to BF16 (with the given WGSL `fn bf16_round`) and packs
 * pairs into an rgba32uint storage texture of width × rows (low half = even element), the operand format of
 * the `bf16` GEMM; K runs: as {@link toTexture}. Bindings: 0 src, 1 dst texture.
 */
export function packBf16(rows: number, width: number, roundWgsl: string, runs?: PackedRuns): string {
  const n = rows * width, p = packed(runs);
  return `${storage("S")}
@group(0) @binding(1) var D: texture_storage_2d<rgba32uint, write>;
${roundWgsl}
fn pk(a: f32, b: f32) -> u32 {
  return (bitcast<u32>(bf16_round(a)) >> 16u) | (bitcast<u32>(bf16_round(b)) & 0xffff0000u);
}
${HEAD}
  if (i >= ${(p?.runs ?? 1) * n}u) { return; }
${
    p
      ? `  let s = ${runElement(n, p, "2u * ")};
  let x = S[s];
  let y = S[s + 1u];`
      : `  let x = S[2u * i];
  let y = S[2u * i + 1u];`
  }
  textureStore(D, vec2<i32>(i32(i % ${width}u), i32(i / ${width}u)), vec4<u32>(pk(x.x, x.y), pk(x.z, x.w), pk(y.x, y.y), pk(y.z, y.w)));
}`;
}

// ---- kernels of the DiT layers (TypeScript references in lib/layers/reference.ts) ----

/** Bias add in place: Y[m, n] += b[n]. Bindings: 0 Y [M, N] (read_write), 1 b [N]. */
export function biasAdd(M: number, N: number): string {
  const N4 = N / 4;
  return `${storage("rw Y", "B")}
${HEAD}
  if (i >= ${M * N4}u) { return; }
  Y[i] = Y[i] + B[i % ${N4}u];
}`;
}

/** Bias gradient: db[n] = Σ_m dY[m, n] (rows in order). Bindings: 0 dY [M, N], 1 db [N]. */
export function biasGrad(M: number, N: number): string {
  const N4 = N / 4;
  return `${storage("DY", "rw DB")}
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
  return `${storage("rw S")}
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
  return `${storage("P", "rw G")}
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
  return `${storage("X", "MD", "rw Y", "rw ST: f32")}
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
  return `${storage("DY", "X", "ST: f32", "rw DM")}
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
  return `${storage("DY", "X", "MD", "ST: f32", "rw DX")}
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
  return `${storage("H", "rw A")}
${HEAD}
  if (i >= ${n / 4}u) { return; }
  let h = H[i];
  let u = 0.7978845608028654 * (h + 0.044715 * h * h * h);
  A[i] = 0.5 * h * (vec4<f32>(1.0) + tanh(u));
}`;
}

/** GELU-tanh backward: dH = dA·gelu'(H). Bindings: 0 H, 1 dA, 2 dH. */
export function geluBwd(n: number): string {
  return `${storage("H", "DA", "rw DH")}
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
  return `${storage("H", "rw A")}
${HEAD}
  if (i >= ${n / 4}u) { return; }
  let h = H[i];
  A[i] = h / (vec4<f32>(1.0) + exp(-h));
}`;
}

/** SiLU backward: dH = dA·σ(h)(1 + h(1 − σ(h))) (added to dH's contents when `accumulate`). Bindings: 0 H, 1 dA, 2 dH. */
export function siluBwd(n: number, accumulate = false): string {
  return `${storage("H", "DA", "rw DH")}
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
  return `${storage("X", "MD", "H", "rw Y")}
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
  return `${storage("DY", "MD", "rw DH")}
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
  return `${storage("DY", "H", "rw DM")}
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
  return `${storage("rw Y", "E", "rw loss: f32")}
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
  return `${storage("rw Y", "B")}
${HEAD}
  if (i >= ${n / 4}u) { return; }
  Y[i] = Y[i] + B[i];
}`;
}
