/**
 * Small dense float64 linear algebra for the reconstruction methods: Gram matrices (the GEMM-shaped part of
 * every search: errors are quadratic forms in them), Cholesky factorisation and inverse.
 * @module
 */

/** Aᵀ·B / M for A, B [M, K] (row-major): a K×K matrix. */
export function gram(A: Float64Array, B: Float64Array, M: number, K: number): Float64Array {
  const G = new Float64Array(K * K);
  for (let m = 0; m < M; m++) {
    const o = m * K;
    for (let i = 0; i < K; i++) {
      const a = A[o + i];
      if (a === 0) continue;
      const gi = i * K;
      for (let j = 0; j < K; j++) G[gi + j] += a * B[o + j];
    }
  }
  for (let i = 0; i < G.length; i++) G[i] /= M;
  return G;
}

/** y = G·x for a K×K matrix. */
export function matVec(G: Float64Array, x: ArrayLike<number>, K: number, xo = 0): Float64Array {
  const y = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    let s = 0;
    const gi = i * K;
    for (let j = 0; j < K; j++) s += G[gi + j] * x[xo + j];
    y[i] = s;
  }
  return y;
}

/** xᵀ·G·x − 2·xᵀ·c (the varying part of a least-squares error). */
export function quadErr(
  G: Float64Array,
  x: ArrayLike<number>,
  c: ArrayLike<number>,
  K: number,
  xo = 0,
): number {
  let s = 0;
  for (let i = 0; i < K; i++) {
    const xi = x[xo + i];
    if (xi === 0) continue;
    let t = 0;
    const gi = i * K;
    for (let j = 0; j < K; j++) t += G[gi + j] * x[xo + j];
    s += xi * (t - 2 * c[i]);
  }
  return s;
}

/** Lower Cholesky factor L (A = L·Lᵀ) of a symmetric positive-definite K×K matrix; throws when not SPD. */
export function cholesky(A: Float64Array, K: number): Float64Array {
  const L = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * K + j];
      for (let k = 0; k < j; k++) s -= L[i * K + k] * L[j * K + k];
      if (i === j) {
        if (!(s > 0)) throw new Error("matrix is not positive definite");
        L[i * K + i] = Math.sqrt(s);
      } else L[i * K + j] = s / L[j * K + j];
    }
  }
  return L;
}

/** Inverse of an SPD matrix through its Cholesky factor. */
export function spdInverse(A: Float64Array, K: number): Float64Array {
  const L = cholesky(A, K);
  // Linv = L⁻¹ (lower), A⁻¹ = Linvᵀ·Linv
  const Li = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    Li[i * K + i] = 1 / L[i * K + i];
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= L[i * K + k] * Li[k * K + j];
      Li[i * K + j] = s / L[i * K + i];
    }
  }
  const inv = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < K; k++) s += Li[k * K + i] * Li[k * K + j];
      inv[i * K + j] = s;
      inv[j * K + i] = s;
    }
  }
  return inv;
}

/**
 * The quadratic error e(x) = xᵀGx − 2xᵀc kept up to date while x changes a few entries at a time (the
 * candidates of a bias or clip search differ from their neighbours in few rounded values): each changed entry
 * costs O(K) instead of the O(K²) of a fresh evaluation.
 */
export class IncQuad {
  /** Current x. */
  readonly x: Float64Array;
  /** G·x. */
  readonly r: Float64Array;
  /** Current error. */
  err: number;
  #G: Float64Array;
  #c: ArrayLike<number>;
  #K: number;
  /** Starts at x = 0. */
  constructor(G: Float64Array, c: ArrayLike<number>, K: number) {
    this.#G = G;
    this.#c = c;
    this.#K = K;
    this.x = new Float64Array(K);
    this.r = new Float64Array(K);
    this.err = 0;
  }
  /** Moves to `xn` (read from xn[off..off+K)) and returns the new error. */
  update(xn: ArrayLike<number>, off = 0): number {
    const K = this.#K, G = this.#G, c = this.#c, x = this.x, r = this.r;
    for (let i = 0; i < K; i++) {
      const d = xn[off + i] - x[i];
      if (d === 0) continue;
      this.err += 2 * d * (r[i] - c[i]) + d * d * G[i * K + i];
      const gi = i * K;
      for (let j = 0; j < K; j++) r[j] += d * G[gi + j];
      x[i] = xn[off + i];
    }
    return this.err;
  }
}
