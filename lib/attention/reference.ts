/**
 * TypeScript reference of every attention recipe for one (sequence, head): the forward as the recipe's
 * kernel computes it (smoothing, operand quantization, online softmax over key tiles with the P quantization
 * inside the loop, division by the row sum of the unquantized P̃) and the backward (recomputed P = exp(S − lse),
 * dV = P̂ᵀ·dÔ, dP = dO·Vᵀ, D = rowsum(dO∘O), dS = P∘(dP − D), dQ = dŜ·K̂/√d, dK = dŜᵀ·Q̂/√d).
 * Values are stored in f32; dot products accumulate in f32 in index order.
 *
 * ```
 * K ← K − mean_tokens(K)                        (smoothK)
 * Q ← Q − q̄_blk, ΔS = q̄_blk·Kᵀ                  (smoothQ, blocks of qBlock queries)
 * S = (Q̂·K̂ᵀ + ΔS)/√d;  per key tile: m' = max(m, rowmax S), P̃ = exp(S − m')·pScale,
 * l = l·e^(m−m') + ΣP̃,  acc = acc·e^(m−m') + P̂·V̂,  O = acc / l
 * ```
 * @module
 */
import { fakeQuant } from "./quant.ts";
import type { AttentionRecipe } from "./recipes.ts";

const f = Math.fround;

/** One (sequence, head) attention problem; Q, K, V are row-major [T, hd]. */
export interface HeadProblem {
  /** Queries [T, hd]. */
  q: Float32Array;
  /** Keys [T, hd]. */
  k: Float32Array;
  /** Values [T, hd]. */
  v: Float32Array;
  /** Tokens. */
  T: number;
  /** Head size. */
  hd: number;
  /** Causal mask (query i sees keys ≤ i) or bidirectional. */
  causal: boolean;
  /** Bidirectional only: keys ≥ this are padding (default T). */
  keys?: number;
}

/** Forward result, with what the backward needs. */
export interface HeadForward {
  /** Output [T, hd]. */
  o: Float32Array;
  /** Row log-sum-exp of the scores S (f32; the backward's P = exp(S − lse)). */
  lse: Float32Array;
  /** Scores S [T, T] as the forward computed them (masked entries −Infinity). */
  s: Float32Array;
  /** Quantized operands as used by the products. */
  qh: Float32Array;
  /** K̂ (smoothed when the recipe smooths K). */
  kh: Float32Array;
  /** V̂. */
  vh: Float32Array;
  /** K after smoothing (f32, padding rows zero). */
  ks: Float32Array;
  /** V with padding rows zero. */
  vz: Float32Array;
}

/** Gradients of one head. */
export interface HeadGrads {
  /** dQ [T, hd]. */
  dq: Float32Array;
  /** dK [T, hd]. */
  dk: Float32Array;
  /** dV [T, hd]. */
  dv: Float32Array;
}

function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s = 0;
  for (let d = 0; d < n; d++) s = f(s + f(a[ao + d] * b[bo + d]));
  return s;
}

/** Number of keys query row `i` sees. */
function limit(p: HeadProblem, i: number): number {
  return p.causal ? i + 1 : (p.keys ?? p.T);
}

/** The recipe's forward for one head. */
export function headForward(r: AttentionRecipe, p: HeadProblem): HeadForward {
  const { T, hd } = p;
  const nk = p.causal ? T : (p.keys ?? T);
  const scale = f(1 / Math.sqrt(hd));
  // smoothing (f32 means, accumulated in token order)
  const ks = new Float32Array(T * hd), vz = new Float32Array(T * hd);
  for (let t = 0; t < nk; t++) {
    for (let d = 0; d < hd; d++) {
      ks[t * hd + d] = p.k[t * hd + d];
      vz[t * hd + d] = p.v[t * hd + d];
    }
  }
  if (r.smoothK) {
    const inv = f(1 / nk);
    for (let d = 0; d < hd; d++) {
      let s = 0;
      for (let t = 0; t < nk; t++) s = f(s + ks[t * hd + d]);
      const mean = f(s * inv);
      for (let t = 0; t < nk; t++) ks[t * hd + d] = f(ks[t * hd + d] - mean);
    }
  }
  const qs = Float32Array.from(p.q);
  const nBlk = Math.ceil(T / r.qBlock);
  const dS = r.smoothQ ? new Float32Array(nBlk * T) : undefined;
  if (dS) {
    const qbar = new Float32Array(hd);
    for (let b = 0; b < nBlk; b++) {
      const t0 = b * r.qBlock, t1 = Math.min(T, t0 + r.qBlock), inv = f(1 / (t1 - t0));
      for (let d = 0; d < hd; d++) {
        let s = 0;
        for (let t = t0; t < t1; t++) s = f(s + p.q[t * hd + d]);
        qbar[d] = f(s * inv);
        for (let t = t0; t < t1; t++) qs[t * hd + d] = f(p.q[t * hd + d] - qbar[d]);
      }
      for (let k = 0; k < T; k++) dS[b * T + k] = dot(qbar, 0, ks, k * hd, hd);
    }
  }
  const qh = fakeQuant(qs, T, hd, r.qk, "qk", r.tile);
  const kh = fakeQuant(ks, T, hd, r.qk, "qk", r.tile);
  const vh = fakeQuant(vz, T, hd, r.v, "v", r.tile);
  const o = new Float32Array(T * hd),
    lse = new Float32Array(T),
    sAll = new Float32Array(T * T).fill(-Infinity);
  const acc = new Float64Array(hd);
  for (let i = 0; i < T; i++) {
    const lim = limit(p, i);
    let m = -Infinity, l = 0;
    acc.fill(0);
    for (let t0 = 0; t0 < lim; t0 += r.tile) {
      const t1 = Math.min(t0 + r.tile, lim);
      let mt = -Infinity;
      for (let k = t0; k < t1; k++) {
        let s = dot(qh, i * hd, kh, k * hd, hd);
        if (dS) s = f(s + dS[Math.floor(i / r.qBlock) * T + k]);
        s = f(s * scale);
        sAll[i * T + k] = s;
        if (s > mt) mt = s;
      }
      const mNew = Math.max(m, mt);
      const alpha = m === -Infinity ? 0 : f(Math.exp(f(m - mNew)));
      const pt = new Float32Array(r.tile);
      let sum = 0;
      for (let k = t0; k < t1; k++) {
        pt[k - t0] = f(f(Math.exp(f(sAll[i * T + k] - mNew))) * r.pScale);
        sum = f(sum + pt[k - t0]);
      }
      const ph = fakeQuant(pt, 1, r.tile, r.p, "p", r.tile);
      l = f(f(l * alpha) + sum);
      for (let d = 0; d < hd; d++) {
        let a = 0;
        for (let k = t0; k < t1; k++) a = f(a + f(ph[k - t0] * vh[k * hd + d]));
        acc[d] = f(f(acc[d] * alpha) + a);
      }
      m = mNew;
    }
    for (let d = 0; d < hd; d++) o[i * hd + d] = f(acc[d] / l);
    lse[i] = f(m + f(Math.log(f(l / r.pScale))));
  }
  return { o, lse, s: sAll, qh, kh, vh, ks, vz };
}

/** The recipe's backward for one head, from the forward's result and dO [T, hd]. */
export function headBackward(
  r: AttentionRecipe,
  p: HeadProblem,
  fw: HeadForward,
  dO: Float32Array,
): HeadGrads {
  const b = r.backward;
  if (!b) throw new Error(`attention recipe "${r.name}" has no backward`);
  const { T, hd } = p;
  const scale = f(1 / Math.sqrt(hd));
  const P = new Float32Array(T * T);
  for (let i = 0; i < T; i++) {
    const lim = limit(p, i);
    for (let k = 0; k < lim; k++) P[i * T + k] = f(Math.exp(f(fw.s[i * T + k] - fw.lse[i])));
  }
  const ph = fakeQuant(P, T, T, b.p, "p", r.tile);
  const dOh = fakeQuant(dO, T, hd, b.dO, "tok", r.tile);
  const dO16 = fakeQuant(dO, T, hd, b.dP, "tok", r.tile);
  const v16 = fakeQuant(fw.vz, T, hd, b.dP, "tok", r.tile);
  const dv = new Float32Array(T * hd);
  for (let k = 0; k < T; k++) {
    for (let d = 0; d < hd; d++) {
      let s = 0;
      for (let i = 0; i < T; i++) s = f(s + f(ph[i * T + k] * dOh[i * hd + d]));
      dv[k * hd + d] = s;
    }
  }
  const dSm = new Float32Array(T * T);
  for (let i = 0; i < T; i++) {
    const D = dot(dO, i * hd, fw.o, i * hd, hd);
    const lim = limit(p, i);
    for (let k = 0; k < lim; k++) {
      const dp = dot(dO16, i * hd, v16, k * hd, hd);
      dSm[i * T + k] = f(P[i * T + k] * f(dp - D));
    }
  }
  const dSh = fakeQuant(dSm, T, T, b.dS, "ss", r.tile);
  const kb = fakeQuant(fw.ks, T, hd, b.qk, "qk", r.tile);
  const qb = fakeQuant(p.q, T, hd, b.qk, "qk", r.tile);
  const dq = new Float32Array(T * hd), dk = new Float32Array(T * hd);
  for (let i = 0; i < T; i++) {
    for (let d = 0; d < hd; d++) {
      let s = 0, t = 0;
      for (let k = 0; k < T; k++) {
        s = f(s + f(dSh[i * T + k] * kb[k * hd + d]));
        t = f(t + f(dSh[k * T + i] * qb[k * hd + d]));
      }
      dq[i * hd + d] = f(s * scale);
      dk[i * hd + d] = f(t * scale);
    }
  }
  return { dq, dk, dv };
}

/** Exact attention in float64 (the accuracy baseline): softmax(QKᵀ/√d [mask])·V. */
export function exactForward(p: HeadProblem): Float64Array {
  const { T, hd } = p;
  const o = new Float64Array(T * hd), sc = 1 / Math.sqrt(hd), s = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    const lim = limit(p, i);
    let m = -Infinity;
    for (let k = 0; k < lim; k++) {
      let a = 0;
      for (let d = 0; d < hd; d++) a += p.q[i * hd + d] * p.k[k * hd + d];
      s[k] = a * sc;
      m = Math.max(m, s[k]);
    }
    let l = 0;
    for (let k = 0; k < lim; k++) l += s[k] = Math.exp(s[k] - m);
    for (let k = 0; k < lim; k++) for (let d = 0; d < hd; d++) o[i * hd + d] += (s[k] / l) * p.v[k * hd + d];
  }
  return o;
}

/** Exact attention gradients in float64 for output gradient dO. */
export function exactBackward(
  p: HeadProblem,
  dO: Float32Array,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const { T, hd } = p;
  const sc = 1 / Math.sqrt(hd);
  const P = new Float64Array(T * T);
  for (let i = 0; i < T; i++) {
    const lim = limit(p, i);
    let m = -Infinity;
    for (let k = 0; k < lim; k++) {
      let a = 0;
      for (let d = 0; d < hd; d++) a += p.q[i * hd + d] * p.k[k * hd + d];
      P[i * T + k] = a * sc;
      m = Math.max(m, P[i * T + k]);
    }
    let l = 0;
    for (let k = 0; k < lim; k++) l += P[i * T + k] = Math.exp(P[i * T + k] - m);
    for (let k = 0; k < lim; k++) P[i * T + k] /= l;
  }
  const dq = new Float64Array(T * hd), dk = new Float64Array(T * hd), dv = new Float64Array(T * hd);
  for (let i = 0; i < T; i++) {
    const lim = limit(p, i);
    const dp = new Float64Array(lim);
    let D = 0;
    for (let k = 0; k < lim; k++) {
      for (let d = 0; d < hd; d++) dp[k] += dO[i * hd + d] * p.v[k * hd + d];
      D += P[i * T + k] * dp[k];
    }
    for (let k = 0; k < lim; k++) {
      const ds = P[i * T + k] * (dp[k] - D) * sc;
      for (let d = 0; d < hd; d++) {
        dv[k * hd + d] += P[i * T + k] * dO[i * hd + d];
        dq[i * hd + d] += ds * p.k[k * hd + d];
        dk[k * hd + d] += ds * p.q[i * hd + d];
      }
    }
  }
  return { dq, dk, dv };
}

/** Cosine similarity and relative L2 error of `x` against the reference `ref`. */
export function compare(x: ArrayLike<number>, ref: ArrayLike<number>): { cosSim: number; relL2: number } {
  let xy = 0, xx = 0, yy = 0, dd = 0;
  for (let i = 0; i < ref.length; i++) {
    xy += x[i] * ref[i];
    xx += x[i] * x[i];
    yy += ref[i] * ref[i];
    dd += (x[i] - ref[i]) ** 2;
  }
  return {
    cosSim: xx && yy ? xy / Math.sqrt(xx * yy) : xx === yy ? 1 : 0,
    relL2: yy ? Math.sqrt(dd / yy) : Math.sqrt(dd),
  };
}
