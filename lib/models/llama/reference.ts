/**
 * Float64 TypeScript reference of every engine op and of the whole model (forward and backward), used
 * by the kernel tests and the finite-difference gradient test. Row-major arrays throughout.
 * @module
 */
import type { ModelConfig } from "../../engine/api.ts";
import { paramLayout } from "./config.ts";
import { ropeTable } from "../../layers/attention.ts";

/** A numeric array. */
export type Arr = Float64Array | Float32Array;

/**
 * C[z] = alpha·op(A)·op(B) for Z batched products with dense per-batch layouts:
 * A is [M,K] (or [K,M] when transA), B is [K,N] (or [N,K] when transB).
 */
export function matmul(
  A: Arr,
  B: Arr,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  alpha = 1,
  Z = 1,
): Float64Array {
  const C = new Float64Array(Z * M * N);
  for (let z = 0; z < Z; z++) {
    const a0 = z * M * K, b0 = z * K * N, c0 = z * M * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          s += A[a0 + (transA ? k * M + m : m * K + k)] * B[b0 + (transB ? n * K + k : k * N + n)];
        }
        C[c0 + m * N + n] = alpha * s;
      }
    }
  }
  return C;
}

/** RMSNorm forward: returns Y and r (per row). */
export function rmsFwd(
  X: Arr,
  w: Arr,
  M: number,
  D: number,
  eps: number,
): { Y: Float64Array; r: Float64Array } {
  const Y = new Float64Array(M * D), r = new Float64Array(M);
  for (let m = 0; m < M; m++) {
    let ss = 0;
    for (let j = 0; j < D; j++) ss += X[m * D + j] ** 2;
    r[m] = 1 / Math.sqrt(ss / D + eps);
    for (let j = 0; j < D; j++) Y[m * D + j] = X[m * D + j] * r[m] * w[j];
  }
  return { Y, r };
}

/** RMSNorm backward: dX and dw. */
export function rmsBwd(
  dY: Arr,
  X: Arr,
  w: Arr,
  r: Arr,
  M: number,
  D: number,
): { dX: Float64Array; dw: Float64Array } {
  const dX = new Float64Array(M * D), dw = new Float64Array(D);
  for (let m = 0; m < M; m++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += dY[m * D + j] * w[j] * X[m * D + j] * r[m];
    for (let j = 0; j < D; j++) {
      const xh = X[m * D + j] * r[m];
      dX[m * D + j] = r[m] * (dY[m * D + j] * w[j] - (xh * s) / D);
      dw[j] += dY[m * D + j] * xh;
    }
  }
  return { dX, dw };
}

/** Rotate-half RoPE on the q and k parts of a fused [M, 3D] qkv array (copy); `inverse` = transpose. */
export function rope(
  QKV: Arr,
  M: number,
  T: number,
  D: number,
  hd: number,
  theta: number,
  inverse: boolean,
): Float64Array {
  const out = Float64Array.from(QKV);
  const tab = ropeTable(T, hd, theta), half = hd / 2;
  for (let m = 0; m < M; m++) {
    const p = m % T;
    for (let hh = 0; hh < (2 * D) / hd; hh++) {
      for (let e = 0; e < half; e++) {
        const c = tab[p * half + e], s = tab[T * half + p * half + e];
        const o = m * 3 * D + hh * hd + e;
        const a = QKV[o], b = QKV[o + half];
        out[o] = inverse ? a * c + b * s : a * c - b * s;
        out[o + half] = inverse ? b * c - a * s : b * c + a * s;
      }
    }
  }
  return out;
}

/** Causal softmax over rows of [Z, T, T]. */
export function softmaxCausal(S: Arr, Z: number, T: number): Float64Array {
  const P = new Float64Array(Z * T * T);
  for (let z = 0; z < Z; z++) {
    for (let i = 0; i < T; i++) {
      const o = (z * T + i) * T;
      let mx = -Infinity;
      for (let j = 0; j <= i; j++) mx = Math.max(mx, S[o + j]);
      let s = 0;
      for (let j = 0; j <= i; j++) s += P[o + j] = Math.exp(S[o + j] - mx);
      for (let j = 0; j <= i; j++) P[o + j] /= s;
    }
  }
  return P;
}

/** Softmax backward: dS = P ⊙ (dP − rowsum(P ⊙ dP)). */
export function softmaxBwd(P: Arr, dP: Arr, Z: number, T: number): Float64Array {
  const dS = new Float64Array(Z * T * T);
  for (let r = 0; r < Z * T; r++) {
    let s = 0;
    for (let j = 0; j < T; j++) s += P[r * T + j] * dP[r * T + j];
    for (let j = 0; j < T; j++) dS[r * T + j] = P[r * T + j] * (dP[r * T + j] - s);
  }
  return dS;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** SwiGLU forward from fused [M, 2F] (gate | up). */
export function swigluFwd(GU: Arr, M: number, F: number): Float64Array {
  const A = new Float64Array(M * F);
  for (let m = 0; m < M; m++) {
    for (let j = 0; j < F; j++) {
      const g = GU[m * 2 * F + j];
      A[m * F + j] = g * sigmoid(g) * GU[m * 2 * F + F + j];
    }
  }
  return A;
}

/** SwiGLU backward to fused [M, 2F]. */
export function swigluBwd(GU: Arr, dA: Arr, M: number, F: number): Float64Array {
  const dGU = new Float64Array(M * 2 * F);
  for (let m = 0; m < M; m++) {
    for (let j = 0; j < F; j++) {
      const g = GU[m * 2 * F + j], u = GU[m * 2 * F + F + j], d = dA[m * F + j], s = sigmoid(g);
      dGU[m * 2 * F + j] = d * u * s * (1 + g * (1 - s));
      dGU[m * 2 * F + F + j] = d * g * s;
    }
  }
  return dGU;
}

/** Cross-entropy: per-row losses and (softmax − onehot)·scale; targets < 0 ignored. */
export function crossEntropy(
  logits: Arr,
  targets: ArrayLike<number>,
  M: number,
  V: number,
  scale: number,
): { loss: Float64Array; dlogits: Float64Array } {
  const loss = new Float64Array(M), dl = new Float64Array(M * V);
  for (let m = 0; m < M; m++) {
    const t = targets[m];
    if (t < 0) continue;
    let mx = -Infinity;
    for (let v = 0; v < V; v++) mx = Math.max(mx, logits[m * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[m * V + v] - mx);
    const lse = mx + Math.log(s);
    loss[m] = lse - logits[m * V + t];
    for (let v = 0; v < V; v++) {
      dl[m * V + v] = (Math.exp(logits[m * V + v] - lse) - (v === t ? 1 : 0)) * scale;
    }
  }
  return { loss, dlogits: dl };
}

/** Per-tensor views of flat parameters. */
function views(c: ModelConfig, flat: Arr): (name: string) => Arr {
  const lay = paramLayout(c);
  return (name) => {
    const t = lay.byName.get(name)!;
    return flat.subarray(t.offset, t.offset + t.size);
  };
}

/** Splits Q, K, V of head h from fused qkv [B·T, 3D] into [B, T, hd] arrays (batched over b). */
function heads(qkv: Arr, B: number, T: number, D: number, hd: number, part: number, h: number): Float64Array {
  const out = new Float64Array(B * T * hd);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let e = 0; e < hd; e++) {
        out[(b * T + t) * hd + e] = qkv[(b * T + t) * 3 * D + part * D + h * hd + e];
      }
    }
  }
  return out;
}

/** Per-layer attention inputs and output gradients, filled by {@link modelLossAndGrads} when passed. */
export interface AttentionCapture {
  /** Rotated qkv [B·T, 3D] of each layer. */
  qkv: Float64Array[];
  /** Gradient of the loss with respect to each layer's head outputs [B·T, D] (when gradients are computed). */
  dAtt: Float64Array[];
}

/** Whole-model loss (mean over valid targets) and gradients of the flat parameters, in float64. */
export function modelLossAndGrads(
  c: ModelConfig,
  flat: Arr,
  inputs: ArrayLike<number>,
  targets: ArrayLike<number>,
  batch: number,
  withGrad = true,
  capture?: AttentionCapture,
): { loss: number; grads: Float64Array } {
  const P = views(c, flat);
  const T = c.context, D = c.dModel, F = c.ffn, V = c.vocab, H = c.heads, hd = D / H, L = c.layers;
  const B = batch, M = B * T, alpha = 1 / Math.sqrt(hd);
  const lin = (X: Arr, W: Arr, inF: number, outF: number) => matmul(X, W, M, outF, inF, false, true);
  // forward
  const E = P("model.embed_tokens.weight");
  let x: Float64Array = new Float64Array(M * D);
  for (let m = 0; m < M; m++) for (let j = 0; j < D; j++) x[m * D + j] = E[inputs[m] * D + j];
  type Cache = {
    x0: Float64Array;
    h1: Float64Array;
    r1: Float64Array;
    qkv: Float64Array;
    Ps: Float64Array[];
    att: Float64Array;
    x1: Float64Array;
    h2: Float64Array;
    r2: Float64Array;
    gu: Float64Array;
    a: Float64Array;
  };
  const caches: Cache[] = [];
  for (let l = 0; l < L; l++) {
    const pre = `model.layers.${l}`;
    const x0 = x;
    const { Y: h1, r: r1 } = rmsFwd(x0, P(`${pre}.input_layernorm.weight`), M, D, c.rmsEps);
    const qkv = rope(lin(h1, P(`${pre}.qkv`), D, 3 * D), M, T, D, hd, c.ropeTheta, false);
    capture?.qkv.push(qkv);
    const att = new Float64Array(M * D);
    const Ps: Float64Array[] = [];
    for (let h = 0; h < H; h++) {
      const q = heads(qkv, B, T, D, hd, 0, h),
        k = heads(qkv, B, T, D, hd, 1, h),
        v = heads(qkv, B, T, D, hd, 2, h);
      const Pm = softmaxCausal(matmul(q, k, T, T, hd, false, true, alpha, B), B, T);
      Ps.push(Pm);
      const o = matmul(Pm, v, T, hd, T, false, false, 1, B);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          for (let e = 0; e < hd; e++) att[(b * T + t) * D + h * hd + e] = o[(b * T + t) * hd + e];
        }
      }
    }
    const x1 = lin(att, P(`${pre}.o`), D, D).map((v, i) => v + x0[i]);
    const { Y: h2, r: r2 } = rmsFwd(x1, P(`${pre}.post_attention_layernorm.weight`), M, D, c.rmsEps);
    const gu = lin(h2, P(`${pre}.gate_up`), D, 2 * F);
    const a = swigluFwd(gu, M, F);
    x = lin(a, P(`${pre}.down`), F, D).map((v, i) => v + x1[i]);
    caches.push({ x0, h1, r1, qkv, Ps, att, x1, h2, r2, gu, a });
  }
  const { Y: hf, r: rf } = rmsFwd(x, P("model.norm.weight"), M, D, c.rmsEps);
  const logits = lin(hf, P("lm_head.weight"), D, V);
  let valid = 0;
  for (let m = 0; m < M; m++) if (targets[m] >= 0) valid++;
  const { loss, dlogits } = crossEntropy(logits, targets, M, V, 1 / valid);
  const lossMean = loss.reduce((s, v) => s + v, 0) / valid;
  const grads = new Float64Array(flat.length);
  if (!withGrad) return { loss: lossMean, grads };
  const lay = paramLayout(c);
  const G = (name: string, g: Arr) => grads.set(g, lay.byName.get(name)!.offset);
  // backward
  const linBack = (dY: Arr, X: Arr, W: Arr, inF: number, outF: number) => ({
    dX: matmul(dY, W, M, inF, outF, false, false),
    dW: matmul(dY, X, outF, inF, M, true, false),
  });
  const head = linBack(dlogits, hf, P("lm_head.weight"), D, V);
  G("lm_head.weight", head.dW);
  const nf = rmsBwd(head.dX, x, P("model.norm.weight"), rf, M, D);
  G("model.norm.weight", nf.dw);
  let dx = nf.dX;
  for (let l = L - 1; l >= 0; l--) {
    const pre = `model.layers.${l}`, k = caches[l];
    const dn = linBack(dx, k.a, P(`${pre}.down`), F, D);
    G(`${pre}.down`, dn.dW);
    const dgu = swigluBwd(k.gu, dn.dX, M, F);
    const g2 = linBack(dgu, k.h2, P(`${pre}.gate_up`), D, 2 * F);
    G(`${pre}.gate_up`, g2.dW);
    const n2 = rmsBwd(g2.dX, k.x1, P(`${pre}.post_attention_layernorm.weight`), k.r2, M, D);
    G(`${pre}.post_attention_layernorm.weight`, n2.dw);
    dx = dx.map((v, i) => v + n2.dX[i]);
    const op = linBack(dx, k.att, P(`${pre}.o`), D, D);
    if (capture) capture.dAtt[l] = op.dX;
    G(`${pre}.o`, op.dW);
    const dqkv = new Float64Array(M * 3 * D);
    for (let h = 0; h < H; h++) {
      const q = heads(k.qkv, B, T, D, hd, 0, h),
        kk = heads(k.qkv, B, T, D, hd, 1, h),
        v = heads(k.qkv, B, T, D, hd, 2, h);
      const dO = new Float64Array(B * T * hd);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          for (let e = 0; e < hd; e++) dO[(b * T + t) * hd + e] = op.dX[(b * T + t) * D + h * hd + e];
        }
      }
      const Pm = k.Ps[h];
      const dP = matmul(dO, v, T, T, hd, false, true, 1, B);
      const dV = matmul(Pm, dO, T, hd, T, true, false, 1, B);
      const dS = softmaxBwd(Pm, dP, B, T);
      const dQ = matmul(dS, kk, T, hd, T, false, false, alpha, B);
      const dK = matmul(dS, q, T, hd, T, true, false, alpha, B);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          for (let e = 0; e < hd; e++) {
            const o = (b * T + t) * 3 * D + h * hd + e, i = (b * T + t) * hd + e;
            dqkv[o] = dQ[i];
            dqkv[o + D] = dK[i];
            dqkv[o + 2 * D] = dV[i];
          }
        }
      }
    }
    const dqkvR = rope(dqkv, M, T, D, hd, c.ropeTheta, true);
    const q1 = linBack(dqkvR, k.h1, P(`${pre}.qkv`), D, 3 * D);
    G(`${pre}.qkv`, q1.dW);
    const n1 = rmsBwd(q1.dX, k.x0, P(`${pre}.input_layernorm.weight`), k.r1, M, D);
    G(`${pre}.input_layernorm.weight`, n1.dw);
    dx = dx.map((v, i) => v + n1.dX[i]);
  }
  const dE = new Float64Array(V * D);
  for (let m = 0; m < M; m++) for (let j = 0; j < D; j++) dE[inputs[m] * D + j] += dx[m * D + j];
  G("model.embed_tokens.weight", dE);
  return { loss: lossMean, grads };
}

/** One AdamW step (PyTorch semantics) on flat arrays, in float64; returns new (p, m, v). */
export function adamwStep(
  p: Arr,
  g: Arr,
  m: Arr,
  v: Arr,
  o: { lr: number; step: number; b1: number; b2: number; eps: number; wd: number; clipCoef: number },
): { p: Float64Array; m: Float64Array; v: Float64Array } {
  const bc1 = 1 - o.b1 ** o.step, bc2 = 1 - o.b2 ** o.step;
  const P = new Float64Array(p.length), Mo = new Float64Array(p.length), Vo = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] * o.clipCoef;
    Mo[i] = o.b1 * m[i] + (1 - o.b1) * gi;
    Vo[i] = o.b2 * v[i] + (1 - o.b2) * gi * gi;
    const pi = p[i] * (1 - o.lr * o.wd);
    P[i] = pi - (o.lr / bc1) * (Mo[i] / (Math.sqrt(Vo[i]) / Math.sqrt(bc2) + o.eps));
  }
  return { p: P, m: Mo, v: Vo };
}
