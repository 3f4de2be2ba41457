/**
 * A CPU (float64) forward pass of the DiT with a hook on the input of every linear layer, the DiT
 * counterpart of lib/ptq/forward.ts: the calibration capture reads the inputs there, and a quantized DiT puts
 * its activation quantizers there. Without hooks it computes exactly what lib/models/dit/reference.ts's
 * `ditForward` computes (same operations in the same order; tests/ptq_dit_test.ts checks it).
 *
 * The forward runs one image at a time, so a hook sees one image's tokens ([T, in] for the patch embedding,
 * the block linears and the final linear; [1, in] for the conditioning MLPs): an online quantizer's
 * "per tensor" is per image, and results never depend on how images are batched.
 * @module
 */
import {
  type DitConfig,
  ditLayout,
  ditPatchDim,
  ditTokens,
  FREQ_DIM,
  tensorView,
} from "../models/dit/config.ts";
import { LN_EPS, timestepEmbedding } from "../models/dit/reference.ts";
import type { DitInput } from "../models/dit/reference.ts";
import type { InputHook, LinearInfo } from "./forward.ts";

/** Which DiT linears a recipe quantizes: those in the DiT blocks, or every linear of the model. */
export type DitScope = "blocks" | "all";

/**
 * The DiT's linear layers in forward order (names are the weight tensors' names). `blocks`: per block the
 * adaLN modulation, qkv, proj, fc1, fc2; `all` adds the patch embedding, the timestep MLP and the final
 * layer's modulation and linear. The label embedding table is not a linear (LLM-FP4 may quantize it as an
 * embedding, weight only).
 */
export function ditLinearLayers(c: DitConfig, scope: DitScope): LinearInfo[] {
  const h = c.hidden, f = c.mlpRatio * h, P = ditPatchDim(c), out: LinearInfo[] = [];
  const add = (name: string, kind: LinearInfo["kind"], inF: number, outF: number) =>
    out.push({ name: `${name}.weight`, kind, inF, outF });
  if (scope === "all") {
    add("x_embedder.proj", "x_embed", P, h);
    add("t_embedder.mlp.0", "t_embed", FREQ_DIM, h);
    add("t_embedder.mlp.2", "t_embed", h, h);
  }
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}`;
    add(`${b}.adaLN_modulation.1`, "adaln", h, 6 * h);
    add(`${b}.attn.qkv`, "qkv", h, 3 * h);
    add(`${b}.attn.proj`, "o", h, h);
    add(`${b}.mlp.fc1`, "fc1", h, f);
    add(`${b}.mlp.fc2`, "down", f, h);
  }
  if (scope === "all") {
    add("final_layer.adaLN_modulation.1", "adaln", h, 2 * h);
    add("final_layer.linear", "final", h, P);
  }
  return out;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const silu = (x: number) => x * sigmoid(x);
const K_GELU = Math.sqrt(2 / Math.PI);
const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(K_GELU * (x + 0.044715 * x * x * x)));

/** Y[n, out] = X[n, in] · Wᵀ + b (the reference's summation order). */
function linF(X: Float64Array, n: number, inD: number, W: Float64Array, b: Float64Array, outD: number) {
  const Y = new Float64Array(n * outD);
  for (let r = 0; r < n; r++) {
    const xo = r * inD;
    for (let o = 0; o < outD; o++) {
      let s = b[o];
      const wo = o * inD;
      for (let i = 0; i < inD; i++) s += X[xo + i] * W[wo + i];
      Y[r * outD + o] = s;
    }
  }
  return Y;
}

function lnF(X: Float64Array, n: number, d: number): Float64Array {
  const y = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    let m = 0;
    for (let i = 0; i < d; i++) m += X[r * d + i];
    m /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (X[r * d + i] - m) ** 2;
    const rs = 1 / Math.sqrt(v / d + LN_EPS);
    for (let i = 0; i < d; i++) y[r * d + i] = (X[r * d + i] - m) * rs;
  }
  return y;
}

function modulate(
  x: Float64Array,
  n: number,
  d: number,
  mod: Float64Array,
  shiftAt: number,
  scaleAt: number,
) {
  const out = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) out[r * d + i] = x[r * d + i] * (1 + mod[scaleAt + i]) + mod[shiftAt + i];
  }
  return out;
}

function attention(qkv: Float64Array, T: number, h: number, heads: number): Float64Array {
  const hd = h / heads, scale = 1 / Math.sqrt(hd);
  const O = new Float64Array(T * h), row = new Float64Array(T);
  for (let a = 0; a < heads; a++) {
    for (let i = 0; i < T; i++) {
      let mx = -Infinity;
      for (let j = 0; j < T; j++) {
        let s = 0;
        for (let d = 0; d < hd; d++) s += qkv[i * 3 * h + a * hd + d] * qkv[j * 3 * h + h + a * hd + d];
        row[j] = s * scale;
        if (row[j] > mx) mx = row[j];
      }
      let z = 0;
      for (let j = 0; j < T; j++) z += row[j] = Math.exp(row[j] - mx);
      for (let j = 0; j < T; j++) row[j] /= z;
      for (let j = 0; j < T; j++) {
        const p = row[j];
        for (let d = 0; d < hd; d++) O[i * h + a * hd + d] += p * qkv[j * 3 * h + 2 * h + a * hd + d];
      }
    }
  }
  return O;
}

/** ε̂ [B, C, H, W] of a batch with `hook` on every linear input (float64; params in ditLayout order). */
export function ditForwardHooked(
  cfg: DitConfig,
  params: Float32Array | Float64Array,
  inp: DitInput,
  hook?: InputHook,
): Float64Array {
  const layout = ditLayout(cfg);
  const flat = params instanceof Float64Array ? params : Float64Array.from(params);
  const p = (n: string) => tensorView(layout, flat, n);
  const h = cfg.hidden, S = cfg.inputSize, C = cfg.inChannels, T = ditTokens(cfg), P = ditPatchDim(cfg);
  const f = cfg.mlpRatio * h, pt = cfg.patch, G = S / pt;
  const lin = (name: string, X: Float64Array, n: number, inD: number, outD: number) =>
    linF(hook ? hook(`${name}.weight`, X, n, inD) : X, n, inD, p(`${name}.weight`), p(`${name}.bias`), outD);
  const eps = new Float64Array(inp.batch * C * S * S);
  for (let b = 0; b < inp.batch; b++) {
    // patchify (rows ordered (c, i, j))
    const patches = new Float64Array(T * P);
    for (let py = 0; py < G; py++) {
      for (let px = 0; px < G; px++) {
        const o = (py * G + px) * P;
        for (let c = 0; c < C; c++) {
          for (let i = 0; i < pt; i++) {
            for (let j = 0; j < pt; j++) {
              patches[o + (c * pt + i) * pt + j] = inp.x[((b * C + c) * S + py * pt + i) * S + px * pt + j];
            }
          }
        }
      }
    }
    let x = lin("x_embedder.proj", patches, T, P, h);
    const pos = p("pos_embed");
    for (let k = 0; k < x.length; k++) x[k] += pos[k];
    const a1 = lin("t_embedder.mlp.0", timestepEmbedding(inp.t[b]), 1, FREQ_DIM, h);
    const temb = lin("t_embedder.mlp.2", a1.map(silu), 1, h, h);
    const y = inp.y[b];
    if (!(Number.isInteger(y) && y >= 0 && y <= cfg.numClasses)) {
      throw new Error(`dit: label ${y} out of range`);
    }
    const table = p("y_embedder.embedding_table.weight");
    const sc = new Float64Array(h);
    for (let k = 0; k < h; k++) sc[k] = silu(temb[k] + table[y * h + k]);
    for (let i = 0; i < cfg.depth; i++) {
      const bl = `blocks.${i}`;
      const mod = lin(`${bl}.adaLN_modulation.1`, sc, 1, h, 6 * h);
      const m1 = modulate(lnF(x, T, h), T, h, mod, 0, h);
      const O = attention(lin(`${bl}.attn.qkv`, m1, T, h, 3 * h), T, h, cfg.heads);
      const A = lin(`${bl}.attn.proj`, O, T, h, h);
      const x1 = new Float64Array(T * h);
      for (let r = 0; r < T; r++) {
        for (let k = 0; k < h; k++) x1[r * h + k] = x[r * h + k] + mod[2 * h + k] * A[r * h + k];
      }
      const m2 = modulate(lnF(x1, T, h), T, h, mod, 3 * h, 4 * h);
      const M = lin(`${bl}.mlp.fc2`, lin(`${bl}.mlp.fc1`, m2, T, h, f).map(gelu), T, f, h);
      const x2 = new Float64Array(T * h);
      for (let r = 0; r < T; r++) {
        for (let k = 0; k < h; k++) x2[r * h + k] = x1[r * h + k] + mod[5 * h + k] * M[r * h + k];
      }
      x = x2;
    }
    const fmod = lin("final_layer.adaLN_modulation.1", sc, 1, h, 2 * h);
    const out = lin("final_layer.linear", modulate(lnF(x, T, h), T, h, fmod, 0, h), T, h, P);
    // unpatchify (within-patch order (i, j, c))
    const base = b * C * S * S;
    for (let tok = 0; tok < T; tok++) {
      const py = Math.floor(tok / G), px = tok % G;
      for (let k = 0; k < P; k++) {
        const c = k % C, ij = Math.floor(k / C), i = Math.floor(ij / pt), j = ij % pt;
        eps[base + (c * S + py * pt + i) * S + px * pt + j] = out[tok * P + k];
      }
    }
  }
  return eps;
}
