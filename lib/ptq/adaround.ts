/**
 * FP4DiT's weight rounding (Chen et al. 2025; fp4-methods.md §6): AdaRound on the FP grid. Each weight w with
 * group scale s sits between two grid neighbours lo ≤ w/s ≤ hi; the rounded weight is s·(lo + (hi − lo)·h),
 * h = clip(σ(·)·(ζ − γ) + γ, 0, 1) with γ = −0.1, ζ = 1.1. Scale-aware (FP4DiT): the parameter is α = Δ·V with
 * Δ = s·(hi − lo) the weight's own FP step and h = h(α/Δ), so every binade learns at the same rate; plain
 * AdaRound learns V directly. Initialised so that h equals the fractional part; loss = reconstruction error
 * (sum over outputs, mean over tokens) + λ·Σ(1 − |2h − 1|^β), β annealed 20 → 2 after a 20 % warm-up without
 * the regulariser; Adam on the parameters. Hard rounding at the end: h = [parameter ≥ 0].
 *
 * Reconstruction here is per linear layer with full-batch gradients through the Gram matrices (the GEMM-shaped
 * part); FP4DiT reconstructs whole DiT blocks on mini-batches (BRECQ) — see the closing note.
 * @module
 */
import { gram } from "./linalg.ts";
import { type Grid, gridBracket } from "./grid.ts";

/** AdaRound settings (recipe data). */
export interface AdaroundSettings {
  /** Scale-aware parametrisation (FP4DiT) or plain AdaRound. */
  scaleAware: boolean;
  /** Iterations. */
  iters: number;
  /** Rounding regulariser weight λ (0.01). */
  lambda: number;
  /** β schedule start and end (20 → 2). */
  beta: [number, number];
  /** Warm-up fraction without the regulariser (0.2). */
  warmup: number;
  /** Adam learning rate (1e-4). */
  lr: number;
}

/** Stretch constants of the rectified sigmoid. */
export const ZETA = 1.1, GAMMA = -0.1;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** h(v) = clip(σ(v)·(ζ − γ) + γ, 0, 1). */
export function rectSigmoid(v: number): number {
  return Math.min(1, Math.max(0, sigmoid(v) * (ZETA - GAMMA) + GAMMA));
}

/** The logit that makes h equal `rest` (the init). */
export function initLogit(rest: number): number {
  const p = (rest - GAMMA) / (ZETA - GAMMA);
  return Math.log(p / (1 - p));
}

/** Per-weight rounding state of one layer. */
export interface RoundingState {
  /** Lower neighbour times scale. */
  base: Float64Array;
  /** Step to the upper neighbour (Δ = s·(hi − lo)); 0: fixed weight. */
  step: Float64Array;
  /** Parameters (α for scale-aware, V for plain). */
  param: Float64Array;
  /** Whether α = Δ·V. */
  scaleAware: boolean;
}

/** Builds the initial state for W [outF, inF] with per-group scales. */
export function initRounding(
  W: ArrayLike<number>,
  outF: number,
  inF: number,
  g: Grid,
  scales: Float64Array,
  groupLen: number,
  scaleAware: boolean,
): RoundingState {
  const n = outF * inF, G = Math.ceil(inF / groupLen);
  const base = new Float64Array(n), step = new Float64Array(n), param = new Float64Array(n);
  for (let j = 0; j < outF; j++) {
    for (let k = 0; k < inF; k++) {
      const i = j * inF + k, s = scales[j * G + Math.floor(k / groupLen)];
      if (!(s > 0)) continue;
      const b = gridBracket(g, W[i] / s);
      base[i] = s * b.lo;
      step[i] = s * (b.hi - b.lo);
      const v = initLogit(b.rest);
      param[i] = scaleAware ? step[i] * v : v;
    }
  }
  return { base, step, param, scaleAware };
}

/** Soft rounding h of weight i. */
export function softH(st: RoundingState, i: number): number {
  if (st.step[i] === 0) return 0;
  return rectSigmoid(st.scaleAware ? st.param[i] / st.step[i] : st.param[i]);
}

/** The weights under soft (h) or hard ([param ≥ 0]) rounding. */
export function roundedWeights(st: RoundingState, hard: boolean): Float64Array {
  const w = new Float64Array(st.base.length);
  for (let i = 0; i < w.length; i++) {
    const h = st.step[i] === 0 ? 0 : hard ? (st.param[i] >= 0 ? 1 : 0) : softH(st, i);
    w[i] = st.base[i] + st.step[i] * h;
  }
  return w;
}

/** Reconstruction loss Σ_out mean_tok (W̃x̂ − Wx)² up to its constant, and its gradient, from Gram matrices. */
function reconGrad(
  Wt: Float64Array,
  G: Float64Array,
  CW: Float64Array,
  outF: number,
  K: number,
  grad: Float64Array,
): number {
  let loss = 0;
  for (let j = 0; j < outF; j++) {
    const o = j * K;
    for (let a = 0; a < K; a++) {
      let t = 0;
      for (let b = 0; b < K; b++) t += G[a * K + b] * Wt[o + b];
      grad[o + a] = 2 * (t - CW[o + a]);
      loss += Wt[o + a] * (t - 2 * CW[o + a]);
    }
  }
  return loss;
}

/** Result of {@link adaround}. */
export interface AdaroundResult {
  /** Hard-rounded weights. */
  w: Float64Array;
  /** Reconstruction error (mean over tokens of the sum over outputs) of the hard-rounded weights every 10
   * iterations (the first: round to nearest), then the final one. */
  trace: number[];
  /** Final error with hard rounding. */
  hardErr: number;
}

/**
 * Optimises the rounding of W on inputs: Xq (the quantized activations the layer sees) and X (float inputs of
 * the target X·Wᵀ), both [M, inF].
 */
export function adaround(
  W: Float64Array,
  X: Float64Array,
  Xq: Float64Array,
  M: number,
  outF: number,
  inF: number,
  g: Grid,
  scales: Float64Array,
  groupLen: number,
  s: AdaroundSettings,
): AdaroundResult {
  const K = inF, n = outF * K;
  const st = initRounding(W, outF, K, g, scales, groupLen, s.scaleAware);
  const G = gram(Xq, Xq, M, K), Gx = gram(Xq, X, M, K), Gxx = gram(X, X, M, K);
  const CW = new Float64Array(n); // rows Gx·w_j
  let c0 = 0;
  for (let j = 0; j < outF; j++) {
    for (let a = 0; a < K; a++) {
      let t = 0, u = 0;
      for (let b = 0; b < K; b++) {
        t += Gx[a * K + b] * W[j * K + b];
        u += Gxx[a * K + b] * W[j * K + b];
      }
      CW[j * K + a] = t;
      c0 += W[j * K + a] * u;
    }
  }
  const m1 = new Float64Array(n), m2 = new Float64Array(n), grad = new Float64Array(n);
  const trace: number[] = [];
  const warm = Math.floor(s.warmup * s.iters);
  const scratch = new Float64Array(n);
  for (let it = 0; it < s.iters; it++) {
    // trace: the error of the hard-rounded weights (iteration 0: round to nearest on the FP grid)
    if (it % 10 === 0) trace.push(reconGrad(roundedWeights(st, true), G, CW, outF, K, scratch) + c0);
    const Wt = roundedWeights(st, false);
    reconGrad(Wt, G, CW, outF, K, grad);
    const reg = it >= warm;
    const beta = reg ? s.beta[0] + ((s.beta[1] - s.beta[0]) * (it - warm)) / Math.max(1, s.iters - warm) : 0;
    const t = it + 1;
    for (let i = 0; i < n; i++) {
      const step = st.step[i];
      if (step === 0) continue;
      const v = s.scaleAware ? st.param[i] / step : st.param[i];
      const sg = sigmoid(v), hr = sg * (ZETA - GAMMA) + GAMMA;
      if (hr <= 0 || hr >= 1) continue; // clipped: no gradient
      let dh = grad[i] * step;
      if (reg) {
        const z = 2 * hr - 1;
        dh += s.lambda * -beta * Math.abs(z) ** (beta - 1) * Math.sign(z) * 2;
      }
      let gp = dh * sg * (1 - sg) * (ZETA - GAMMA);
      if (s.scaleAware) gp /= step;
      m1[i] = 0.9 * m1[i] + 0.1 * gp;
      m2[i] = 0.999 * m2[i] + 0.001 * gp * gp;
      const mh = m1[i] / (1 - 0.9 ** t), vh = m2[i] / (1 - 0.999 ** t);
      st.param[i] -= (s.lr * mh) / (Math.sqrt(vh) + 1e-8);
    }
  }
  const w = roundedWeights(st, true);
  const hardErr = reconGrad(w, G, CW, outF, K, grad) + c0;
  trace.push(hardErr);
  for (let i = 0; i < w.length; i++) w[i] = Math.fround(w[i]);
  return { w, trace, hardErr };
}
