/**
 * Packed-FP4 path for GEMMs whose two operands are both MXFP4 (E2M1 elements, E8M0 scale per 32 along K):
 *
 * 1. `packKernel`: the operand's fused prep (transform + scale + round + mask, kernels/schemes/prep.ts)
 *    run per group along the GEMM's reduction axis, writing E2M1 codes 8 per u32 (little-endian nibbles,
 *    lib/formats/packing.ts order) as [rows, K/8], one f32 block scale per 32 values as [rows, K/32] (the
 *    E8M0 scale times 2^14 and the inverse prescale), the f32 dequantized values (kept for the backward
 *    GEMMs) and the estimator multiplier.
 * 2. `fp4GemmKernel`: C[m, n] = Σ_k A[m, k]·B[n, k] (+ D) with A and B packed along K. Each invocation owns
 *    an 8×8 tile; per 8-k step it loads one word per row of A and of B (16 loads for 512 FMAs), decodes nibble
 *    pairs (k, k+4) with integer ops into an f16 pair (`unpack2x16float`; E2M1 value × 2^-14, exact), and
 *    multiplies the decoded values by their block scales before the f32 FMAs
 *    (see /work/shared/notes/webgpu-on-cpu.md, "FP4, 8×8 packed E2M1").
 * The decoded operand values equal the f32 dequantized values bit for bit, so the result equals the f32
 * GEMM of the dequantized operands up to summation order.
 * @module
 */
import { prepWgsl } from "./prep.ts";
import type { OperandQuant } from "../../lib/schemes/types.ts";

/**
 * Prep-and-pack kernel over a row-major [R, C] source with groups of G along `axis`. Bindings: 0 S (read),
 * 1 O (f32 dequantized, S's layout), 2 step uniform, 3 codes, 4 scales, 5 multiplier (when `estimator`).
 * The packed layout puts the reduction axis last: rows = the other axis (C rows of K = R for axis 0).
 */
export function packKernel(
  op: OperandQuant,
  R: number,
  C: number,
  axis: 0 | 1,
  G: number,
  gemm: "dx" | "dw",
  estimator: boolean,
  salt: number,
): string {
  const groups = (R * C) / G;
  const len = axis === 1 ? C : R;
  const per = len / G; // groups per packed row
  const idx = axis === 1
    ? `let row = gi / ${per}u; let p0 = (gi % ${per}u) * ${G}u; let base = row * ${C}u + p0; let stride = 1u;`
    : `let row = gi % ${C}u; let p0 = (gi / ${C}u) * ${G}u; let base = p0 * ${C}u + row; let stride = ${C}u;`;
  return `struct U { lr: f32, stepSize: f32, sqrtBc2: f32, seed: u32 };
@group(0) @binding(0) var<storage, read> S: array<f32>;
@group(0) @binding(1) var<storage, read_write> O: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
@group(0) @binding(3) var<storage, read_write> Q: array<u32>;
@group(0) @binding(4) var<storage, read_write> SC: array<f32>;
${estimator ? "@group(0) @binding(5) var<storage, read_write> GM: array<f32>;" : ""}
${prepWgsl(op, G, gemm, true)}
fn mix32(x: u32) -> u32 {
  var h = x ^ (x >> 16u); h = h * 0x7feb352du; h = h ^ (h >> 15u); h = h * 0x846ca68bu; return h ^ (h >> 16u);
}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let gi = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (gi >= ${groups}u) { return; }
  ${idx}
  var v: array<f32, ${G}>;
  var g: array<f32, ${G}>;
  var words: array<u32, ${G / 8}>;
  var scales: array<f32, ${G / 32}>;
  for (var j = 0u; j < ${G}u; j++) { v[j] = S[base + j * stride]; g[j] = 1.0; }
  prep(&v, &g, mix32(u.seed ^ ${salt >>> 0}u ^ mix32(gi)), &words, &scales);
  for (var j = 0u; j < ${G}u; j++) { O[base + j * stride] = v[j]; }
  for (var w = 0u; w < ${G / 8}u; w++) { Q[row * ${len / 8}u + p0 / 8u + w] = words[w]; }
  for (var b = 0u; b < ${G / 32}u; b++) { SC[row * ${len / 32}u + p0 / 32u + b] = scales[b]; }
${estimator ? `  for (var j = 0u; j < ${G}u; j++) { GM[base + j * stride] = g[j]; }` : ""}
}`;
}

/** Decodes nibble pair (jj, jj+4) of the words `mag`/`sg` into an f16 pair expression. */
function pair(mag: string, sg: string, jj: number): string {
  const s = 9 - 4 * jj;
  const m = s >= 0 ? `(${mag} << ${s}u)` : `(${mag} >> ${-s}u)`;
  return `unpack2x16float((${m} & 0x0e000e00u) | ((${sg} << ${12 - 4 * jj}u) & 0x80008000u))`;
}

/**
 * Packed FP4 GEMM C[M, N] = A·Bᵀ (+ D when `add`): bindings 0 A codes [M, K/8], 1 A scales [M, K/32],
 * 2 B codes [N, K/8], 3 B scales [N, K/32], 4 C, 5 D. M, N multiples of 8; K a multiple of 32.
 * One invocation per 8×8 tile, consecutive invocations on consecutive column tiles.
 */
export function fp4GemmKernel(M: number, N: number, K: number, add: boolean): string {
  if (M % 8 || N % 8 || K % 32) throw new Error(`fp4 gemm: shape ${M}×${N}×${K} not supported`);
  const KW = K / 8, KB = K / 32, NT = N / 8;
  const lines: string[] = [];
  for (let jj = 0; jj < 4; jj++) {
    for (let i = 0; i < 8; i++) lines.push(`      let a${i} = ${pair(`am${i}`, `as${i}`, jj)} * sa${i};`);
    for (let j = 0; j < 8; j++) lines.push(`      let b${j} = ${pair(`bm${j}`, `bs${j}`, jj)} * sb${j};`);
    lines.push(
      `      let bx0 = vec4<f32>(b0.x, b1.x, b2.x, b3.x); let bx1 = vec4<f32>(b4.x, b5.x, b6.x, b7.x);`,
      `      let by0 = vec4<f32>(b0.y, b1.y, b2.y, b3.y); let by1 = vec4<f32>(b4.y, b5.y, b6.y, b7.y);`,
    );
    for (let i = 0; i < 8; i++) {
      lines.push(
        `      c${2 * i} = fma(vec4<f32>(a${i}.y), by0, fma(vec4<f32>(a${i}.x), bx0, c${2 * i}));`,
        `      c${2 * i + 1} = fma(vec4<f32>(a${i}.y), by1, fma(vec4<f32>(a${i}.x), bx1, c${2 * i + 1}));`,
      );
    }
    if (jj < 3) lines.push("    }", "    {");
  }
  const loadA = Array.from(
    { length: 8 },
    (_, i) =>
      `      let aw${i} = A[(m0 + ${i}u) * ${KW}u + kw]; let am${i} = aw${i} & 0x77777777u; let as${i} = aw${i} & 0x88888888u;`,
  )
    .join("\n");
  const loadB = Array.from(
    { length: 8 },
    (_, j) =>
      `      let bw${j} = B[(n0 + ${j}u) * ${KW}u + kw]; let bm${j} = bw${j} & 0x77777777u; let bs${j} = bw${j} & 0x88888888u;`,
  )
    .join("\n");
  const store = Array.from({ length: 8 }, (_, i) =>
    [0, 1].map((h) => {
      const o = `(m0 + ${i}u) * ${N}u + n0 + ${4 * h}u`;
      const val = add
        ? `c${2 * i + h} + vec4<f32>(D[${o}], D[${o} + 1u], D[${o} + 2u], D[${o} + 3u])`
        : `c${2 * i + h}`;
      return `  { let r = ${val}; C[${o}] = r.x; C[${o} + 1u] = r.y; C[${o} + 2u] = r.z; C[${o} + 3u] = r.w; }`;
    }).join("\n")).join("\n");
  return `@group(0) @binding(0) var<storage, read> A: array<u32>;
@group(0) @binding(1) var<storage, read> SA: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<u32>;
@group(0) @binding(3) var<storage, read> SB: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
${add ? "@group(0) @binding(5) var<storage, read> D: array<f32>;" : ""}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= ${(M / 8) * NT}u) { return; }
  let m0 = (t / ${NT}u) * 8u;
  let n0 = (t % ${NT}u) * 8u;
  // Named accumulators and scales: dynamically indexed private arrays stay in memory on llvmpipe.
${Array.from({ length: 16 }, (_, i) => `  var c${i} = vec4<f32>(0.0);`).join("\n")}
  for (var kb = 0u; kb < ${KB}u; kb++) {
${
    Array.from({ length: 8 }, (_, i) =>
      `    let sa${i} = SA[(m0 + ${i}u) * ${KB}u + kb]; let sb${i} = SB[(n0 + ${i}u) * ${KB}u + kb];`).join(
        "\n",
      )
  }
    for (var w = 0u; w < 4u; w++) {
      let kw = kb * 4u + w;
${loadA}
${loadB}
    {
${lines.join("\n")}
    }
    }
  }
  // Decoded values carry 2^-14 each and the scales 2^14 each: the product is exact, no final rescale.
${store}
}`;
}

/** Workgroup grid of the packed GEMM. */
export function fp4GemmGrid(M: number, N: number): [number, number, number] {
  const wgs = Math.ceil((M / 8) * (N / 8) / 64);
  return wgs <= 65535 ? [wgs, 1, 1] : [65535, Math.ceil(wgs / 65535), 1];
}
