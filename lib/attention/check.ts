/**
 * Attention accuracy on a trained model's real activations: captures Q, K, V (after rotary) and the
 * gradient dO of each layer's head outputs from the float64 reference model on a text, then runs every
 * recipe's TS reference per (sequence, head) and compares the output (and, for training recipes, dQ, dK, dV)
 * against exact attention in float64: cosine similarity and relative L2 error per layer, and their means.
 * @module
 */
import type { ModelConfig } from "../engine/api.ts";
import { type AttentionCapture, modelLossAndGrads } from "../models/llama/reference.ts";
import { windowBatches } from "../data/batches.ts";
import type { AttentionRecipe } from "./recipes.ts";
import {
  compare,
  exactBackward,
  exactForward,
  headBackward,
  headForward,
  type HeadProblem,
} from "./reference.ts";

/** Cosine similarity and relative L2 error. */
export interface Agreement {
  /** Cosine similarity against exact attention. */
  cosSim: number;
  /** ‖x − exact‖ / ‖exact‖. */
  relL2: number;
}

/** One layer's figures: the output, and the input gradients for training recipes. */
export interface LayerAgreement extends Agreement {
  /** Layer index. */
  layer: number;
  /** dQ against exact (training recipes). */
  dq?: Agreement;
  /** dK against exact. */
  dk?: Agreement;
  /** dV against exact. */
  dv?: Agreement;
}

/** A recipe's figures: means over layers, and the layers. */
export interface RecipeAgreement extends Agreement {
  /** Mean dQ figures over layers (training recipes). */
  dq?: Agreement;
  /** Mean dK figures. */
  dk?: Agreement;
  /** Mean dV figures. */
  dv?: Agreement;
  /** Per layer. */
  layers: LayerAgreement[];
}

/** Captured per-layer attention operands of a model on some sequences. */
export interface Captured {
  /** Model shape. */
  cfg: ModelConfig;
  /** Sequences. */
  batch: number;
  /** Per layer: qkv [B·T, 3D] and dO [B·T, D]. */
  capture: AttentionCapture;
}

/** Runs the float64 reference model over the first `batch` context windows of `bytes`, capturing attention operands. */
export function captureAttention(
  cfg: ModelConfig,
  params: Float32Array,
  bytes: Uint8Array,
  batch: number,
): Captured {
  const { batches } = windowBatches(bytes, cfg.context, batch);
  if (!batches.length) throw new Error("the text has no tokens to predict (need at least 2 bytes)");
  const b = batches[0];
  const n = Math.min(batch, Math.ceil((bytes.length - 1) / cfg.context));
  const capture: AttentionCapture = { qkv: [], dAtt: [] };
  modelLossAndGrads(
    cfg,
    params,
    b.inputs.subarray(0, n * cfg.context),
    b.targets.subarray(0, n * cfg.context),
    n,
    true,
    capture,
  );
  return { cfg, batch: n, capture };
}

const mean = (xs: Agreement[]): Agreement => ({
  cosSim: xs.reduce((s, x) => s + x.cosSim, 0) / xs.length,
  relL2: xs.reduce((s, x) => s + x.relL2, 0) / xs.length,
});

/** Compares recipe `r` with exact attention on every captured layer. */
export function checkRecipe(r: AttentionRecipe, c: Captured): RecipeAgreement {
  const { cfg, batch: B } = c, T = cfg.context, D = cfg.dModel, H = cfg.heads, hd = D / H;
  const layers: LayerAgreement[] = [];
  c.capture.qkv.forEach((qkv, l) => {
    const dAtt = c.capture.dAtt[l];
    const n = B * H * T * hd;
    const got = {
      o: new Float32Array(n),
      dq: new Float32Array(n),
      dk: new Float32Array(n),
      dv: new Float32Array(n),
    };
    const ref = {
      o: new Float64Array(n),
      dq: new Float64Array(n),
      dk: new Float64Array(n),
      dv: new Float64Array(n),
    };
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const part = (src: Float64Array, ld: number, off: number) => {
          const x = new Float32Array(T * hd);
          for (let t = 0; t < T; t++) {
            for (let j = 0; j < hd; j++) x[t * hd + j] = src[(b * T + t) * ld + off + h * hd + j];
          }
          return x;
        };
        const p: HeadProblem = {
          q: part(qkv, 3 * D, 0),
          k: part(qkv, 3 * D, D),
          v: part(qkv, 3 * D, 2 * D),
          T,
          hd,
          causal: true,
        };
        const at = (b * H + h) * T * hd;
        const fw = headForward(r, p);
        got.o.set(fw.o, at);
        ref.o.set(exactForward(p), at);
        if (r.backward) {
          const dO = part(dAtt, D, 0);
          const g = headBackward(r, p, fw, dO), e = exactBackward(p, dO);
          for (const k of ["dq", "dk", "dv"] as const) {
            got[k].set(g[k], at);
            ref[k].set(e[k], at);
          }
        }
      }
    }
    const la: LayerAgreement = { layer: l, ...compare(got.o, ref.o) };
    if (r.backward) { for (const k of ["dq", "dk", "dv"] as const) la[k] = compare(got[k], ref[k]); }
    layers.push(la);
  });
  const out: RecipeAgreement = { ...mean(layers), layers };
  if (r.backward) { for (const k of ["dq", "dk", "dv"] as const) out[k] = mean(layers.map((x) => x[k]!)); }
  return out;
}
