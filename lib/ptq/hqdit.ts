/**
 * HQ-DiT (Liu & Zhang 2024), reconstructed (fp4-methods.md §5: only the abstract is verified; no code):
 * random-sign block Hadamard rotation folded into the weights (X·R)(W·R)ᵀ = X·Wᵀ (block-diagonal where the
 * width is not a power of two), per-layer format choice for W and X by MSE, clip search r ∈ {1.0, 0.95, …, 0.5}
 * (per output channel for W, per tensor for X), and FP-GPTQ for the weights. Each flag is one rung of the ladder.
 * @module
 */
import { HADAMARD_SIZES } from "../formats/mod.ts";
import { gram, quadErr } from "./linalg.ts";
import { gridOf, quantScaled } from "./grid.ts";
import { gptq } from "./gptq.ts";
import type { LayerData, LayerResult } from "./layer.ts";
import { type ActQuant, rotateRows } from "./quant.ts";
import { linear } from "./forward.ts";

/** Ladder settings (recipe data). */
export interface HqditSettings {
  /** Rotate (always on in the ladder). */
  rotate: boolean;
  /** Choose the W and X formats per layer among the bit width's FP formats by MSE (else the base format). */
  formatChoice: boolean;
  /** Clip ratios searched (else [1]). */
  clips: number[];
  /** FP-GPTQ for the weights (else round to nearest). */
  gptq: boolean;
  /** Tokens used for the activation search. */
  actTokens: number;
}

/** The largest Hadamard block (16–256) dividing a width, or 0 when none does. */
export function hadamardBlock(width: number): number {
  for (let i = HADAMARD_SIZES.length - 1; i >= 0; i--) {
    if (width % HADAMARD_SIZES[i] === 0) return HADAMARD_SIZES[i];
  }
  return 0;
}

/** Runs the configured HQ-DiT rungs on one layer. `formats`: candidate W formats / X formats (first = base). */
export function hqditLayer(
  d: LayerData,
  wFormats: string[],
  aFormats: string[],
  s: HqditSettings,
  seed: number,
): LayerResult {
  const { outF, inF: K } = d.info;
  const size = s.rotate ? hadamardBlock(K) : 0;
  const X = size ? rotateRows(d.X, K, size, seed) : d.X;
  const W = size ? rotateRows(d.W, K, size, seed) : d.W;
  const wf = s.formatChoice ? wFormats : wFormats.slice(0, 1);
  const af = s.formatChoice ? aFormats : aFormats.slice(0, 1);
  const clips = s.clips.length ? s.clips : [1];
  // weights: per (format), per output channel clip by output error with float inputs
  const G = gram(X, X, d.M, K);
  const rowMax = new Float64Array(outF);
  for (let j = 0; j < outF; j++) {
    for (let k = 0; k < K; k++) rowMax[j] = Math.max(rowMax[j], Math.abs(W[j * K + k]));
  }
  let best = { err: Infinity, f: wf[0], sc: new Float64Array(outF) };
  const wq = new Float64Array(K);
  for (const f of wf) {
    const g = gridOf(f), sc = new Float64Array(outF);
    let tot = 0;
    for (let j = 0; j < outF; j++) {
      let be = Infinity;
      for (const r of clips) {
        const sj = Math.fround((rowMax[j] * r) / g.max);
        for (let k = 0; k < K; k++) wq[k] = quantScaled(g, W[j * K + k], sj) - W[j * K + k];
        // error of the difference: (ŵ−w)ᵀG(ŵ−w)
        const e = quadErr(G, wq, new Float64Array(K), K);
        if (e < be) {
          be = e;
          sc[j] = sj;
        }
      }
      tot += be;
    }
    if (tot < best.err) best = { err: tot, f, sc };
  }
  const g = gridOf(best.f);
  let Wq: Float64Array;
  if (s.gptq) Wq = gptq(W, X, d.M, outF, K, best.f, best.sc, K).w;
  else {
    Wq = new Float64Array(outF * K);
    for (let j = 0; j < outF; j++) {
      for (let k = 0; k < K; k++) Wq[j * K + k] = Math.fround(quantScaled(g, W[j * K + k], best.sc[j]));
    }
  }
  // activations: per-tensor static scale, (format, clip) by layer-output error with Ŵ
  let act: ActQuant | undefined;
  if (af.length) {
    const n = Math.min(d.M, s.actTokens);
    const Xs = new Float64Array(n * K);
    for (let i = 0; i < n; i++) {
      const m = Math.floor((i * d.M) / n);
      Xs.set(X.subarray(m * K, m * K + K), i * K);
    }
    const Y = linear(Xs, W, n, K, outF);
    const A = gram(Wq, Wq, outF, K);
    const Bt = new Float64Array(n * K);
    for (let m = 0; m < n; m++) {
      for (let j = 0; j < outF; j++) {
        const y = Y[m * outF + j] / outF;
        for (let k = 0; k < K; k++) Bt[m * K + k] += y * Wq[j * K + k];
      }
    }
    let amax = 0;
    for (let i = 0; i < X.length; i++) amax = Math.max(amax, Math.abs(X[i]));
    let ba = { err: Infinity, f: af[0], s: amax / gridOf(af[0]).max };
    const xq = new Float64Array(K);
    for (const f of af) {
      const ga = gridOf(f);
      for (const r of clips) {
        const sc = (amax * r) / ga.max;
        let e = 0;
        for (let m = 0; m < n; m++) {
          for (let k = 0; k < K; k++) xq[k] = quantScaled(ga, Xs[m * K + k], sc);
          e += quadErr(A, xq, Bt.subarray(m * K, m * K + K), K);
        }
        if (e < ba.err) ba = { err: e, f, s: sc };
      }
    }
    act = { format: ba.f, mode: "static", scale: ba.s };
    if (size) act.hadamard = { size, seed };
  }
  return {
    weight: { format: best.f, w: Wq, scales: best.sc, groupLen: K },
    act: act ?? (size ? { format: "none", mode: "static", hadamard: { size, seed } } : undefined),
    notes: size ? { hadamard: size } : {},
  };
}
