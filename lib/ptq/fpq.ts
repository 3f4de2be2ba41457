/**
 * LLM-FP4 (Liu et al. 2023; fp4-methods.md §3): per layer, `rounds` rounds of (i)+(ii) weight exponent bias per
 * output channel over γ·b_W and weight format, then (iii)+(iv) activation tensor bias over γ·b̃ and activation
 * format, each by layer-output MSE with both operands quantized. `fpq` adds the pre-shifted per-channel
 * activation exponent offsets ρ (folded into the weights' input columns: an exact identity); `fpq-baseline`
 * keeps one activation bias per tensor. Errors are evaluated as quadratic forms of Gram matrices (exact for
 * the MSE up to a constant), the GEMM-shaped part of the search.
 * @module
 */
import { gram, matVec } from "./linalg.ts";
import { type QuadSearch, runSearch } from "./quad_batch.ts";
import { biasFor, expMan, fpCandidates, type Grid, gridOf, quantScaled, scaleForBias } from "./grid.ts";
import type { LayerData, LayerResult } from "./layer.ts";
import { linear } from "./forward.ts";

/** Search settings (recipe data). */
export interface FpqSettings {
  /** Per-channel activation exponent offsets ρ (fpq) or not (fpq-baseline). */
  perChannel: boolean;
  /** Search rounds (3). */
  rounds: number;
  /** Bias multipliers γ: `n` values lo + k·(hi − lo)/n, k = 0..n−1 (0.01…1.2, 100). */
  gammas: { lo: number; hi: number; n: number };
  /** Tokens used for the activation search (a subsample of the calibration tokens). */
  actTokens: number;
}

/** The γ candidates of the settings. */
export function gammaList(s: FpqSettings["gammas"]): number[] {
  return Array.from({ length: s.n }, (_, k) => s.lo + (k * (s.hi - s.lo)) / s.n);
}

/** Per-channel pre-shift offsets ρ_i = clamp(round(b_i) − round(b̃), 0, 2^e − 1) and the tensor bias b̃. */
export function preShift(g: Grid, colMax: ArrayLike<number>): { bt: number; rho: Int32Array } {
  const { e } = expMan(g);
  const b = Array.from(colMax, (a) => (a > 0 ? biasFor(g, a) : Infinity));
  const bt = Math.min(...b.filter(Number.isFinite), Infinity);
  const rho = new Int32Array(b.length);
  for (let i = 0; i < b.length; i++) {
    const r = Number.isFinite(b[i]) ? Math.round(b[i]) - Math.round(bt) : 2 ** e - 1;
    rho[i] = Math.max(0, Math.min(2 ** e - 1, r));
  }
  return { bt: Number.isFinite(bt) ? bt : 0, rho };
}

/** Activation quantized with tensor scale s and pre-shift ρ, in the original basis: 2^−ρ·s·Q(2^ρ·x/s). */
export function quantActShifted(
  g: Grid,
  X: Float64Array,
  M: number,
  K: number,
  s: number,
  rho?: Int32Array,
): Float64Array {
  const out = new Float64Array(M * K);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      const p = rho ? 2 ** rho[k] : 1;
      out[m * K + k] = quantScaled(g, X[m * K + k] * p, s) / p;
    }
  }
  return out;
}

function subsample(X: Float64Array, M: number, K: number, n: number): { X: Float64Array; M: number } {
  if (M <= n) return { X, M };
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    const m = Math.floor((i * M) / n);
    out.set(X.subarray(m * K, m * K + K), i * K);
  }
  return { X: out, M: n };
}

/** Runs the LLM-FP4 search on one layer at the given bit widths (aBits 16: weights only), float64 on the CPU. */
export function fpqLayer(d: LayerData, wBits: number, aBits: number, s: FpqSettings): LayerResult {
  return runSearch(fpqSearch(d, wBits, aBits, s));
}

/**
 * The LLM-FP4 search on one layer as a {@link QuadSearch}: every (format, γ) candidate set of a round is one
 * batched request (weights: γ × output rows; activations: γ × subsampled tokens), the formats' requests of a
 * step yielded together; choices are argmins here, formats compared in the CPU loop's order.
 */
export function* fpqSearch(
  d: LayerData,
  wBits: number,
  aBits: number,
  s: FpqSettings,
): QuadSearch<LayerResult> {
  const { outF, inF: K } = d.info;
  const gammas = gammaList(s.gammas);
  const wFormats = fpCandidates(wBits);
  const aFormats = aBits >= 16 ? [] : fpCandidates(aBits);
  const colMax = new Float64Array(K);
  for (let m = 0; m < d.M; m++) {
    for (let k = 0; k < K; k++) colMax[k] = Math.max(colMax[k], Math.abs(d.X[m * K + k]));
  }
  const rowMax = new Float64Array(outF);
  for (let j = 0; j < outF; j++) {
    for (let k = 0; k < K; k++) rowMax[j] = Math.max(rowMax[j], Math.abs(d.W[j * K + k]));
  }
  // activation state
  let aFmt = aFormats.length
    ? aFormats.includes("e2m1") ? "e2m1" : aFormats[Math.floor(aFormats.length / 2)]
    : "";
  let aScale = 0, rho: Int32Array | undefined;
  const initAct = (f: string) => {
    const g = gridOf(f);
    const ps = preShift(g, colMax);
    return { s: scaleForBias(g, ps.bt), rho: s.perChannel ? ps.rho : undefined, bt: ps.bt };
  };
  if (aFmt) ({ s: aScale, rho } = initAct(aFmt));
  // weight state
  let wFmt = "e2m1";
  let wScales = new Float64Array(outF);
  for (let j = 0; j < outF; j++) wScales[j] = rowMax[j] / gridOf(wFmt).max;
  const quantW = (f: string, sc: Float64Array) => {
    const g = gridOf(f), out = new Float64Array(outF * K);
    for (let j = 0; j < outF; j++) {
      for (let k = 0; k < K; k++) out[j * K + k] = quantScaled(g, d.W[j * K + k], sc[j]);
    }
    return out;
  };
  const sub = subsample(d.X, d.M, K, s.actTokens);
  const Ysub = linear(sub.X, d.W, sub.M, K, outF);
  const trace: { round: number; wFmt: string; aFmt: string; wErr: number; aErr: number }[] = [];
  for (let round = 0; round < s.rounds; round++) {
    // (i)+(ii): weights, given the quantized activations
    const Xq = aFmt ? quantActShifted(gridOf(aFmt), d.X, d.M, K, aScale, rho) : d.X;
    const G = gram(Xq, Xq, d.M, K), Gx = gram(Xq, d.X, d.M, K);
    const C = new Float64Array(outF * K);
    for (let j = 0; j < outF; j++) C.set(matVec(Gx, d.W, K, j * K), j * K);
    let bestW = { err: Infinity, f: wFmt, sc: wScales };
    // every (γ, row) candidate of every format, row γ·outF + j; one request per format, all yielded together
    const wCands = wFormats.map((f) => {
      const g = gridOf(f);
      const cand = new Float64Array(gammas.length * outF);
      const Q = new Float64Array(gammas.length * outF * K);
      for (let j = 0; j < outF; j++) {
        if (rowMax[j] === 0) continue;
        const bw = biasFor(g, rowMax[j]);
        gammas.forEach((gm, b) => {
          const sj = scaleForBias(g, gm * bw), o = (b * outF + j) * K;
          cand[b * outF + j] = sj;
          for (let k = 0; k < K; k++) Q[o + k] = quantScaled(g, d.W[j * K + k], sj);
        });
      }
      return { f, g, cand, req: { G, K, C, ref: d.W, nC: outF, Q, nB: gammas.length } };
    });
    const wErrs = yield wCands.map((w) => w.req);
    wCands.forEach(({ f, g, cand }, fi) => {
      const errs = wErrs[fi], sc = new Float64Array(outF);
      let tot = 0;
      for (let j = 0; j < outF; j++) {
        if (rowMax[j] === 0) continue;
        let be = Infinity, bs = rowMax[j] / g.max;
        for (let b = 0; b < gammas.length; b++) {
          const e = errs[b * outF + j];
          if (e < be) {
            be = e;
            bs = cand[b * outF + j];
          }
        }
        sc[j] = bs;
        tot += be;
      }
      if (tot < bestW.err) bestW = { err: tot, f, sc };
    });
    wFmt = bestW.f;
    wScales = bestW.sc;
    const Wq = quantW(wFmt, wScales);
    // (iii)+(iv): activations, given the quantized weights
    let aErr = NaN;
    if (aFormats.length) {
      const A = gram(Wq, Wq, outF, K); // ŴᵀŴ·(1/outF); the 1/outF scales every candidate alike
      const Bt = new Float64Array(sub.M * K); // rows y_t·Ŵ/outF
      for (let m = 0; m < sub.M; m++) {
        for (let j = 0; j < outF; j++) {
          const y = Ysub[m * outF + j] / outF;
          for (let k = 0; k < K; k++) Bt[m * K + k] += y * Wq[j * K + k];
        }
      }
      let best = { err: Infinity, f: aFmt, s: aScale, rho };
      const aCands = aFormats.map((f) => {
        const g = gridOf(f);
        const init = initAct(f);
        const scs = gammas.map((gm) => scaleForBias(g, gm * init.bt));
        const Q = new Float64Array(gammas.length * sub.M * K);
        scs.forEach((sc, b) => Q.set(quantActShifted(g, sub.X, sub.M, K, sc, init.rho), b * sub.M * K));
        return { f, init, scs, req: { G: A, K, C: Bt, ref: sub.X, nC: sub.M, Q, nB: gammas.length } };
      });
      const aErrs = yield aCands.map((a) => a.req);
      aCands.forEach(({ f, init, scs }, fi) => {
        const errs = aErrs[fi];
        for (let b = 0; b < gammas.length; b++) {
          let e = 0;
          for (let m = 0; m < sub.M; m++) e += errs[b * sub.M + m];
          if (e < best.err) best = { err: e, f, s: scs[b], rho: init.rho };
        }
      });
      ({ f: aFmt, s: aScale, rho } = best);
      aErr = best.err;
    }
    trace.push({ round, wFmt, aFmt, wErr: bestW.err, aErr });
  }
  const scales32 = Float64Array.from(wScales, Math.fround);
  const Wq = quantW(wFmt, scales32);
  for (let i = 0; i < Wq.length; i++) Wq[i] = Math.fround(Wq[i]);
  const res: LayerResult = {
    weight: { format: wFmt, w: Wq, scales: scales32, groupLen: K },
    notes: { search: trace },
  };
  if (aFmt) {
    res.act = { format: aFmt, mode: "static", scale: aScale };
    if (rho && rho.some((r) => r !== 0)) {
      res.act.channelMul = Array.from(rho, (r) => 2 ** r);
      res.colScale = Float64Array.from(rho, (r) => 2 ** -r);
    }
  }
  return res;
}
