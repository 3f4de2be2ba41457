/**
 * The one GEMM generator of the engine: C = alpha · op(A) · op(B) (· G) (+ C | + D), batched.
 *
 * Design (see /work/shared/notes/webgpu-on-cpu.md): every invocation owns a TM×TN register tile of C (8, 16 or
 * 32 a side; `tileFor` below picks it), operands are read as `vec4<f32>` words from storage
 * buffers or as texels of rgba32float textures (cheaper per value on llvmpipe), there is no workgroup memory
 * and no barrier. All shapes, strides and the epilogue are compile-time constants, so each call site gets its
 * own specialised pipeline (cached by `gemmKey`). Measured on llvmpipe (perf over the JIT code): at 16×16 about
 * half the time is the per-lane texel fetch and the FMAs are emitted as separate multiplies and adds; the
 * epilogue's per-lane stores cost about a fifth of the run time and half the compile time of a 32×32 kernel
 * (about 5 s on a cold Mesa shader cache).
 * Each output sums its k terms in the same order whatever the tile (causal tiles only add exact zeros), so the
 * tile choice never changes a result.
 *
 * Operand addressing (in floats), for batch index z = zb·H + zh:
 * - A(m, k): `transA` false → `off + zb·sb + zh·sh + m·ld + k` (k contiguous); true → `… + k·ld + m`.
 * - B(k, n): `transB` false → `zb·sb + zh·sh + k·ld + n` (n contiguous); true → `… + n·ld + k`.
 * - C(m, n): `zb·sb + zh·sh + m·ld + n`.
 * Every stride and base offset must be a multiple of 4; M and N multiples of 8; K a multiple of 4.
 * @module
 */

/** Strides of one operand (in floats). */
export interface OperandLayout {
  /** Stride of the non-contiguous matrix axis. */
  ld: number;
  /** Constant base offset (default 0). */
  off?: number;
  /** Stride of the outer batch index zb (default 0). */
  sb?: number;
  /** Stride of the inner batch index zh (default 0). */
  sh?: number;
}

/** Everything that specialises one GEMM pipeline. */
export interface GemmSpec {
  /** Rows of C. */
  M: number;
  /** Columns of C. */
  N: number;
  /** Reduction length. */
  K: number;
  /** Number of batched products Z (default 1). */
  batch?: number;
  /** Inner batch count H: z = zb·H + zh (default 1). */
  heads?: number;
  /** A is stored k-major (A(m,k) at k·ld + m). */
  transA: boolean;
  /** B is stored n-major (B(k,n) at n·ld + k), e.g. a weight W[N,K] for X·Wᵀ. */
  transB: boolean;
  /** Layout of A. */
  a: OperandLayout;
  /** Layout of B. */
  b: OperandLayout;
  /** Layout of C (and of D and G when present). */
  c: OperandLayout;
  /** Scale applied to the accumulator (default 1). */
  alpha?: number;
  /** Multiply by an elementwise buffer G (same layout as C): gradient-estimator masks. */
  mul?: boolean;
  /** "self": C += result; "buf": C = result + D (separate buffer with C's layout); "none". */
  add?: "none" | "self" | "buf";
  /** Rows of the register tile per invocation: 8 (default), 16 or 32 (M must be a multiple). */
  tm?: 8 | 16 | 32;
  /** Columns of the register tile per invocation: 8 (default), 16 or 32 (N must be a multiple). */
  tn?: 8 | 16 | 32;
  /**
   * Read A and B from rgba32float textures instead of storage buffers. The texture of an operand is its
   * buffer viewed as [rows, ld] (texel (x, y) = floats y·ld + 4x … +3), so the layouts above still apply.
   */
  tex?: boolean;
  /** Invocations per workgroup (default 64). */
  wg?: number;
  /**
   * Causal structure (square attention matrices, tile rows TM): "skip" computes no tile lying wholly
   * above the diagonal (n0 ≥ m0 + TM; those outputs are left untouched), "kmax" stops the reduction at
   * k < m0 + TM (A(m, k) = 0 for k > m), "kmin" starts it at k = m0 (A(m, k) = 0 for k < m).
   */
  causal?: "skip" | "kmax" | "kmin";
  /**
   * Operands are BF16 values packed in pairs (low half = even element) in rgba32uint textures, 8 values
   * per texel along each operand's contiguous axis (see `packBf16` in ./ops.ts); requires `tex`. The
   * products and the k order equal the f32 kernel on the same BF16-rounded values, so results are identical.
   */
  bf16?: boolean;
  /** Loaded words per operand row along k per loop iteration (1 default, or 2: K must divide by 2·VPT). */
  ku?: 1 | 2;
}

/** Tile columns per invocation. */
export const TILE_N = 8;
/** Default invocations per workgroup. */
export const GEMM_WG = 64;

/**
 * Largest register-tile side: 32, or 16 with env `FP4LAB_GEMM_TILE=16`. Results are bit-identical either way
 * (every output sums its k terms in the same order); 32×32 kernels run 1.15–1.3× faster on llvmpipe but take
 * about 5 s each to compile on a cold Mesa shader cache (16×16: 0.5 s), about 110 s for the reference model.
 */
export const MAX_TILE: 16 | 32 = envTile() === "16" ? 16 : 32;

/** `FP4LAB_GEMM_TILE` when the process may read it (sweeps run without env access and keep the default). */
function envTile(): string | undefined {
  const name = "FP4LAB_GEMM_TILE";
  return Deno.permissions.querySync({ name: "env", variable: name }).state === "granted"
    ? Deno.env.get(name)
    : undefined;
}

/**
 * The spec of C[M, N] = A·B over dense row-major operands (A [M, K] or, `transA`, [K, M]; B [K, N] or,
 * `transB`, [N, K]; C [M, N]): each leading dimension is the stored row length.
 */
export function denseGemm(
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
): Pick<GemmSpec, "M" | "N" | "K" | "transA" | "transB" | "a" | "b" | "c"> {
  return { M, N, K, transA, transB, a: { ld: transA ? M : K }, b: { ld: transB ? K : N }, c: { ld: N } };
}

/**
 * Register tile and workgroup size for an M×N×K GEMM (× `batch`). On llvmpipe about half of a GEMM's time
 * is the per-lane texel fetch, so the largest tile that divides the shape wins: 32×32 reads 64 texels per
 * 4,096 multiply-adds against 32 per 1,024 at 16×16 (1.2–1.3× faster on the reference model's shapes,
 * `deno task bench train`). Small GEMMs keep 8×8 (their kernels compile several times faster and the work
 * is tiny); a side shrinks while fewer than 32 tiles would leave a thread idle.
 */
export function tileFor(
  M: number,
  N: number,
  K: number,
  batch = 1,
): { tm: 8 | 16 | 32; tn: 8 | 16 | 32; wg: number } {
  const small = M * N * K * batch < 1 << 22;
  const side = (n: number): 8 | 16 | 32 =>
    small ? 8 : n % 32 === 0 && n >= 64 && MAX_TILE >= 32 ? 32 : n % 16 === 0 ? 16 : 8;
  let tm = side(M), tn = side(N);
  while ((M / tm) * (N / tn) * batch < 32 && Math.max(tm, tn) > 8) {
    if (tm >= tn) tm = (tm / 2) as 8 | 16;
    else tn = (tn / 2) as 8 | 16;
  }
  const tiles = (M / tm) * (N / tn);
  return { tm, tn, wg: tm * tn >= 512 ? 8 : tiles >= 1024 ? 64 : 16 };
}

/** Cache key of a spec (identical keys share a pipeline). */
export function gemmKey(s: GemmSpec): string {
  return "gemm:" + JSON.stringify([
    s.M,
    s.N,
    s.K,
    s.batch ?? 1,
    s.heads ?? 1,
    s.transA,
    s.transB,
    [s.a.ld, s.a.sb ?? 0, s.a.sh ?? 0, s.a.off ?? 0],
    [s.b.ld, s.b.sb ?? 0, s.b.sh ?? 0, s.b.off ?? 0],
    [s.c.ld, s.c.sb ?? 0, s.c.sh ?? 0, s.c.off ?? 0],
    s.alpha ?? 1,
    !!s.mul,
    s.add ?? "none",
    s.tm ?? 8,
    !!s.tex,
    s.wg ?? GEMM_WG,
    s.causal ?? "",
    s.tn ?? 8,
    !!s.bf16,
    s.ku ?? 1,
  ]);
}

/** Checks the divisibility rules; throws one line naming the violated rule. */
export function checkGemm(s: GemmSpec): void {
  const bad = (msg: string) => {
    throw new Error(`gemm ${s.M}x${s.N}x${s.K}: ${msg}`);
  };
  const tm = s.tm ?? 8;
  const tn = s.tn ?? TILE_N;
  if (s.M % tm || s.N % tn) bad(`M must be a multiple of ${tm} and N of ${tn}`);
  if (s.K % 4) bad("K must be a multiple of 4");
  if (s.bf16 && (!s.tex || s.K % 8 || tm % 8 || tn % 8)) {
    bad("bf16 operands need tex, K, TM and TN multiples of 8");
  }
  for (const [name, l] of [["a", s.a], ["b", s.b], ["c", s.c]] as const) {
    if (l.ld % 4 || (l.sb ?? 0) % 4 || (l.sh ?? 0) % 4 || (l.off ?? 0) % 4) {
      bad(`strides of ${name} must be multiples of 4`);
    }
  }
}

/** Workgroup grid of a spec. */
export function gemmGrid(s: GemmSpec): [number, number, number] {
  const tiles = (s.M / (s.tm ?? 8)) * (s.N / (s.tn ?? TILE_N));
  const groups = Math.ceil((tiles * (s.batch ?? 1)) / (s.wg ?? GEMM_WG));
  return groups <= 65535 ? [groups, 1, 1] : [65535, Math.ceil(groups / 65535), 1];
}

/** FLOPs the kernel executes (2 per multiply-add; causal modes skip work). */
export function gemmFlops(s: GemmSpec): number {
  const TM = s.tm ?? 8, TN = s.tn ?? TILE_N, z = s.batch ?? 1;
  if (!s.causal) return 2 * s.M * s.N * s.K * z;
  let f = 0;
  for (let m0 = 0; m0 < s.M; m0 += TM) {
    if (s.causal === "skip") f += 2 * TM * Math.min(s.N, Math.ceil((m0 + TM) / TN) * TN) * s.K;
    else if (s.causal === "kmax") f += 2 * TM * s.N * Math.min(s.K, m0 + TM);
    else f += 2 * TM * s.N * (s.K - m0);
  }
  return f * z;
}

/** Floating literal for WGSL. */
function f(x: number): string {
  const s = String(Math.fround(x));
  return /[.e]/.test(s) ? s : s + ".0";
}

/**
 * WGSL of a spec. Bindings: 0 A, 1 B (storage buffers, or `texture_2d<f32>` with `tex`), 2 C (read_write),
 * then 3 D when `add` is "buf", then G when `mul`.
 */
export function gemmWgsl(s: GemmSpec): string {
  checkGemm(s);
  const H = s.heads ?? 1, TM = s.tm ?? 8, WG = s.wg ?? GEMM_WG;
  const TN = s.tn ?? TILE_N, NG = TN / 4;
  const tilesN = s.N / TN;
  const tiles = (s.M / TM) * tilesN;
  const alpha = s.alpha ?? 1;
  const add = s.add ?? "none";
  const L: string[] = [];
  if (s.tex) {
    const ty = s.bf16 ? "u32" : "f32";
    L.push(`@group(0) @binding(0) var A: texture_2d<${ty}>;`);
    L.push(`@group(0) @binding(1) var B: texture_2d<${ty}>;`);
  } else {
    L.push(`@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;`);
    L.push(`@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;`);
  }
  L.push(`@group(0) @binding(2) var<storage, read_write> C: array<vec4<f32>>;`);
  let nb = 3;
  if (add === "buf") L.push(`@group(0) @binding(${nb++}) var<storage, read> D: array<vec4<f32>>;`);
  if (s.mul) L.push(`@group(0) @binding(${nb++}) var<storage, read> G: array<vec4<f32>>;`);
  L.push(`@compute @workgroup_size(${WG})`);
  L.push(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,`);
  L.push(`        @builtin(local_invocation_index) lid: u32) {`);
  L.push(`  let inv = (wid.y * nwg.x + wid.x) * ${WG}u + lid;`);
  // Batch index fastest: the SIMD lanes llvmpipe runs together share one tile position, so causal limits
  // and skipped tiles are uniform across them (no lane idles while another finishes a longer k loop).
  const Z = s.batch ?? 1;
  L.push(`  if (inv >= ${tiles * Z}u) { return; }`);
  L.push(`  let z = inv % ${Z}u;`);
  L.push(`  let t = inv / ${Z}u;`);
  L.push(`  let m0 = (t / ${tilesN}u) * ${TM}u;`);
  L.push(`  let n0 = (t % ${tilesN}u) * ${TN}u;`);
  if (s.causal === "skip") L.push(`  if (n0 >= m0 + ${TM}u) { return; }`);
  L.push(`  let zb = z / ${H}u;`);
  L.push(`  let zh = z % ${H}u;`);
  const base = (l: OperandLayout) => `(${l.off ?? 0}u + zb * ${l.sb ?? 0}u + zh * ${l.sh ?? 0}u)`;
  L.push(`  let aB = ${base(s.a)};`);
  L.push(`  let bB = ${base(s.b)};`);
  L.push(`  let cB = ${base(s.c)};`);
  // Values per loaded word: 4 (f32 vec4 / rgba32float texel) or 8 (bf16 pairs packed in an rgba32uint texel).
  const VPT = s.bf16 ? 8 : 4;
  // vals(op, row, col): emits one load of the word at `row`, word column `col`, of an operand viewed as
  // [rows, ld] floats, and returns the VPT scalar expressions it holds (consecutive along the row).
  let nLoad = 0;
  const vals = (op: "A" | "B", l: OperandLayout, row: string, col: string, ind: string): string[] => {
    const v = op.toLowerCase(), nm = `${v}w${nLoad++}`;
    if (!s.tex) {
      L.push(`${ind}let ${nm} = ${op}[${v}B4 + (${row}) * ${l.ld / 4}u + ${col}];`);
      return [0, 1, 2, 3].map((j) => `${nm}[${j}]`);
    }
    L.push(`${ind}let ${nm} = textureLoad(${op}, vec2<i32>(i32(${v}x + ${col}), i32(${v}y + ${row})), 0);`);
    if (!s.bf16) return [0, 1, 2, 3].map((j) => `${nm}[${j}]`);
    L.push(`${ind}let ${nm}l = bitcast<vec4<f32>>(${nm} << vec4<u32>(16u));`);
    L.push(`${ind}let ${nm}h = bitcast<vec4<f32>>(${nm} & vec4<u32>(0xffff0000u));`);
    return [0, 1, 2, 3].flatMap((j) => [`${nm}l[${j}]`, `${nm}h[${j}]`]);
  };
  for (const [op, l] of [["A", s.a], ["B", s.b]] as const) {
    const v = op.toLowerCase();
    if (s.tex) {
      L.push(`  let ${v}y = ${v}B / ${l.ld}u;`);
      L.push(`  let ${v}x = (${v}B % ${l.ld}u) / ${VPT}u;`);
    } else L.push(`  let ${v}B4 = ${v}B / 4u;`);
  }
  for (let r = 0; r < TM; r++) for (let g = 0; g < NG; g++) L.push(`  var c${r}_${g} = vec4<f32>(0.0);`);
  const KU = s.ku ?? 1, KS = VPT * KU; // k per loop iteration
  const KQ = s.K / KS;
  const k0 = s.causal === "kmin" ? `m0 / ${KS}u` : "0u";
  const k1 = s.causal === "kmax" ? `min(${KQ}u, (m0 + ${TM}u) / ${KS}u)` : `${KQ}u`;
  L.push(`  for (var kq = ${k0}; kq < ${k1}; kq++) {`);
  const I = "    ";
  // A as scalars aS[r][kk], kk < KS
  const aS: string[][] = Array.from({ length: TM }, () => []);
  if (!s.transA) {
    for (let r = 0; r < TM; r++) {
      for (let u = 0; u < KU; u++) aS[r].push(...vals("A", s.a, `m0 + ${r}u`, `kq * ${KU}u + ${u}u`, I));
    }
  } else {
    for (let kk = 0; kk < KS; kk++) {
      for (let g = 0; g < TM / VPT; g++) {
        const w = vals("A", s.a, `kq * ${KS}u + ${kk}u`, `m0 / ${VPT}u + ${g}u`, I);
        for (let j = 0; j < VPT; j++) aS[g * VPT + j][kk] = w[j];
      }
    }
  }
  // B as scalars bS[kk][c], grouped into vec4 rows bV[kk][g]
  const bS: string[][] = Array.from({ length: KS }, () => []);
  if (!s.transB) {
    for (let kk = 0; kk < KS; kk++) {
      for (let g = 0; g < TN / VPT; g++) {
        const w = vals("B", s.b, `kq * ${KS}u + ${kk}u`, `n0 / ${VPT}u + ${g}u`, I);
        for (let j = 0; j < VPT; j++) bS[kk][g * VPT + j] = w[j];
      }
    }
  } else {
    for (let c = 0; c < TN; c++) {
      for (let u = 0; u < KU; u++) {
        const w = vals("B", s.b, `n0 + ${c}u`, `kq * ${KU}u + ${u}u`, I);
        for (let kk = 0; kk < VPT; kk++) bS[u * VPT + kk][c] = w[kk];
      }
    }
  }
  const bV: string[][] = [];
  for (let kk = 0; kk < KS; kk++) {
    const row: string[] = [];
    for (let g = 0; g < NG; g++) {
      L.push(`    let b${kk}_${g} = vec4<f32>(${bS[kk].slice(4 * g, 4 * g + 4).join(", ")});`);
      row.push(`b${kk}_${g}`);
    }
    bV.push(row);
  }
  // Accumulator-major order: each accumulator takes all KS products in a row (fewer spill round trips;
  // the per-accumulator k order is unchanged, so results are identical to the k-major order).
  for (let r = 0; r < TM; r++) {
    for (let g = 0; g < NG; g++) {
      for (let kk = 0; kk < KS; kk++) {
        L.push(`    c${r}_${g} = fma(vec4<f32>(${aS[r][kk]}), ${bV[kk][g]}, c${r}_${g});`);
      }
    }
  }
  L.push(`  }`);
  L.push(`  let cr = (cB + n0) / 4u;`);
  const ldc = s.c.ld / 4;
  for (let r = 0; r < TM; r++) {
    for (let g = 0; g < NG; g++) {
      L.push(`  {`);
      L.push(`    let i = cr + (m0 + ${r}u) * ${ldc}u + ${g}u;`);
      let v = alpha === 1 ? `c${r}_${g}` : `c${r}_${g} * ${f(alpha)}`;
      if (s.mul) v = `(${v}) * G[i]`;
      if (add === "self") v = `${v} + C[i]`;
      if (add === "buf") v = `${v} + D[i]`;
      L.push(`    C[i] = ${v};`);
      L.push(`  }`);
    }
  }
  L.push(`}`);
  return L.join("\n");
}
