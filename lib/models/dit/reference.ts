/**
 * A float64 TypeScript DiT (the original DiT code's semantics, learn_sigma = false): forward to ε̂ and
 * backward to the gradient of every parameter, one sample at a time. It is the ground truth the GPU model
 * is tested against, the model behind `tools/dit_check.py`'s agreement test, and a (slow) predictor for
 * the DDIM sampler.
 *
 * Forward of a batch (x_t [B, C, H, W], t [B], y [B]):
 *   tokens  = patchify(x_t) · x_embedderᵀ + b + pos_embed                      [T, h]
 *   c       = t_embedder(t) + y_embedder(y)      t_embedder = Linear(256,h) → SiLU → Linear(h,h) over
 *             the frequency embedding [cos, sin](t · 10000^(−i/128)), i < 128; y = numClasses is "null"
 *   block   : (shift₁, scale₁, gate₁, shift₂, scale₂, gate₂) = Linear(SiLU(c)) (6h, zero-initialised)
 *             x += gate₁ · Attn(LN(x)·(1+scale₁)+shift₁);  x += gate₂ · MLP(LN(x)·(1+scale₂)+shift₂)
 *             LN: LayerNorm eps 1e-6 without affine; Attn: bidirectional multi-head softmax attention with
 *             fused qkv (columns q | k | v, head-major) and proj; MLP: fc1 → GELU(tanh) → fc2.
 *   final   : (shift, scale) = Linear(SiLU(c)); out = Linear(LN(x)·(1+scale)+shift) [T, p·p·C]
 *   ε̂       = unpatchify(out) (within a patch the outputs are ordered (i, j, c))
 * Loss: mean over all B·C·H·W values of (ε̂ − ε)².
 *
 * Public API: {@link ditForward} (ε̂, optionally with a {@link LinearInputHook} on every linear's input: the
 * PTQ calibration capture and activation quantizers), {@link ditLossAndGrads} (loss + flat gradient),
 * {@link ditLoss}, {@link timestepEmbedding}, {@link ditBlockForward} (one block, for the adaLN-Zero identity
 * check), {@link toFloat64}. Parameters and gradients are flat buffers in the {@link ditLayout} order.
 * @module
 */
import { type DitConfig, ditLayout, ditPatchDim, ditTokens, FREQ_DIM, tensorView } from "./config.ts";

/** LayerNorm epsilon of every DiT norm. */
export const LN_EPS = 1e-6;

/** A batch in the DiT's input terms. */
export interface DitInput {
  /** Batch size B. */
  batch: number;
  /** Noisy images x_t [B, C, H, W]. */
  x: ArrayLike<number>;
  /** Timesteps [B] (integers in [0, 999] in DDPM use). */
  t: ArrayLike<number>;
  /** Class labels [B] in [0, numClasses]; numClasses is the null (unconditional) class. */
  y: ArrayLike<number>;
}

/** Copies a flat float32 parameter buffer to float64. */
export function toFloat64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}

/** The 256-dim timestep embedding [cos(t·f_0..127), sin(t·f_0..127)], f_i = 10000^(−i/128). */
export function timestepEmbedding(t: number, dim = FREQ_DIM): Float64Array {
  const half = dim / 2, out = new Float64Array(dim);
  for (let i = 0; i < half; i++) {
    const a = t * Math.exp(-Math.log(10000) * i / half);
    out[i] = Math.cos(a);
    out[half + i] = Math.sin(a);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Primitive ops on row-major float64 matrices.

/** Y[n, out] = X[n, in] · Wᵀ + b. */
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

/** Backward of linF: accumulates dW, db; returns dX. */
function linB(
  dY: Float64Array,
  X: Float64Array,
  n: number,
  inD: number,
  W: Float64Array,
  outD: number,
  dW: Float64Array,
  db: Float64Array,
): Float64Array {
  const dX = new Float64Array(n * inD);
  for (let r = 0; r < n; r++) {
    const xo = r * inD;
    for (let o = 0; o < outD; o++) {
      const g = dY[r * outD + o];
      if (g === 0) continue;
      db[o] += g;
      const wo = o * inD;
      for (let i = 0; i < inD; i++) {
        dX[xo + i] += g * W[wo + i];
        dW[wo + i] += g * X[xo + i];
      }
    }
  }
  return dX;
}

/** LayerNorm without affine per row; returns normalised rows and 1/σ per row. */
function lnF(X: Float64Array, n: number, d: number): { y: Float64Array; rstd: Float64Array } {
  const y = new Float64Array(n * d), rstd = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let m = 0;
    for (let i = 0; i < d; i++) m += X[r * d + i];
    m /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (X[r * d + i] - m) ** 2;
    const rs = 1 / Math.sqrt(v / d + LN_EPS);
    rstd[r] = rs;
    for (let i = 0; i < d; i++) y[r * d + i] = (X[r * d + i] - m) * rs;
  }
  return { y, rstd };
}

function lnB(dy: Float64Array, y: Float64Array, rstd: Float64Array, n: number, d: number): Float64Array {
  const dx = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    let a = 0, b = 0;
    for (let i = 0; i < d; i++) {
      a += dy[r * d + i];
      b += dy[r * d + i] * y[r * d + i];
    }
    a /= d;
    b /= d;
    for (let i = 0; i < d; i++) dx[r * d + i] = rstd[r] * (dy[r * d + i] - a - y[r * d + i] * b);
  }
  return dx;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const silu = (x: number) => x * sigmoid(x);
const siluGrad = (x: number) => {
  const s = sigmoid(x);
  return s * (1 + x * (1 - s));
};
const K_GELU = Math.sqrt(2 / Math.PI);
const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(K_GELU * (x + 0.044715 * x * x * x)));
const geluGrad = (x: number) => {
  const th = Math.tanh(K_GELU * (x + 0.044715 * x * x * x));
  return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * K_GELU * (1 + 3 * 0.044715 * x * x);
};
const mapA = (a: Float64Array, f: (x: number) => number) => a.map(f);

/** x·(1+scale)+shift over rows; shift/scale are slices of a modulation vector. */
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

/** Backward of modulate: returns dx; accumulates dshift/dscale into dmod. */
function modulateB(
  dy: Float64Array,
  x: Float64Array,
  n: number,
  d: number,
  mod: Float64Array,
  dmod: Float64Array,
  shiftAt: number,
  scaleAt: number,
): Float64Array {
  const dx = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) {
      const g = dy[r * d + i];
      dx[r * d + i] = g * (1 + mod[scaleAt + i]);
      dmod[scaleAt + i] += g * x[r * d + i];
      dmod[shiftAt + i] += g;
    }
  }
  return dx;
}

/** Bidirectional multi-head attention core on qkv [T, 3h]: returns O [T, h] and the probabilities. */
function attnF(qkv: Float64Array, T: number, h: number, heads: number) {
  const hd = h / heads, scale = 1 / Math.sqrt(hd);
  const O = new Float64Array(T * h), P = new Float64Array(heads * T * T);
  for (let a = 0; a < heads; a++) {
    for (let i = 0; i < T; i++) {
      const row = P.subarray((a * T + i) * T, (a * T + i + 1) * T);
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
  return { O, P };
}

function attnB(dO: Float64Array, qkv: Float64Array, P: Float64Array, T: number, h: number, heads: number) {
  const hd = h / heads, scale = 1 / Math.sqrt(hd);
  const dqkv = new Float64Array(T * 3 * h);
  const dP = new Float64Array(T);
  for (let a = 0; a < heads; a++) {
    for (let i = 0; i < T; i++) {
      const row = P.subarray((a * T + i) * T, (a * T + i + 1) * T);
      let dot = 0;
      for (let j = 0; j < T; j++) {
        let s = 0;
        for (let d = 0; d < hd; d++) {
          const g = dO[i * h + a * hd + d];
          s += g * qkv[j * 3 * h + 2 * h + a * hd + d];
          dqkv[j * 3 * h + 2 * h + a * hd + d] += row[j] * g;
        }
        dP[j] = s;
        dot += row[j] * s;
      }
      for (let j = 0; j < T; j++) {
        const dS = row[j] * (dP[j] - dot) * scale;
        if (dS === 0) continue;
        for (let d = 0; d < hd; d++) {
          dqkv[i * 3 * h + a * hd + d] += dS * qkv[j * 3 * h + h + a * hd + d];
          dqkv[j * 3 * h + h + a * hd + d] += dS * qkv[i * 3 * h + a * hd + d];
        }
      }
    }
  }
  return dqkv;
}

// ---------------------------------------------------------------------------------------------------

type View = (name: string) => Float64Array;

/**
 * A hook on the input of a linear layer in {@link ditForward}: called with the layer's weight name (e.g.
 * `blocks.0.attn.qkv.weight`), its input X [rows, inF] and the two sizes; returns the operand the product
 * reads (X itself, or a replacement of the same size). The forward runs one sample at a time, so a hook sees
 * one image's rows: [T, inF] for the patch embedding, the block linears and the final linear; [1, inF] for the
 * timestep MLP and the adaLN modulations.
 */
export type LinearInputHook = (name: string, X: Float64Array, rows: number, inF: number) => Float64Array;

/** Y[n, outD] = X[n, inD] · Wᵀ + b of the linear layer `name` (tensors `name`.weight, `name`.bias). */
type Lin = (name: string, X: Float64Array, n: number, inD: number, outD: number) => Float64Array;

/** The linear layers of a parameter view, each input passed through `hook` first when one is given. */
function linears(p: View, hook?: LinearInputHook): Lin {
  return (name, X, n, inD, outD) =>
    linF(hook ? hook(`${name}.weight`, X, n, inD) : X, n, inD, p(`${name}.weight`), p(`${name}.bias`), outD);
}

/** Everything one block's forward keeps for its backward. */
interface BlockCache {
  mod: Float64Array;
  n1: { y: Float64Array; rstd: Float64Array };
  m1: Float64Array;
  qkv: Float64Array;
  P: Float64Array;
  O: Float64Array;
  A: Float64Array;
  x1: Float64Array;
  n2: { y: Float64Array; rstd: Float64Array };
  m2: Float64Array;
  H1: Float64Array;
  G: Float64Array;
  M: Float64Array;
}

function blockF(cfg: DitConfig, lin: Lin, i: number, x: Float64Array, sc: Float64Array) {
  const h = cfg.hidden, T = ditTokens(cfg), f = cfg.mlpRatio * h, b = `blocks.${i}`;
  const mod = lin(`${b}.adaLN_modulation.1`, sc, 1, h, 6 * h);
  const n1 = lnF(x, T, h);
  const m1 = modulate(n1.y, T, h, mod, 0, h);
  const qkv = lin(`${b}.attn.qkv`, m1, T, h, 3 * h);
  const { O, P } = attnF(qkv, T, h, cfg.heads);
  const A = lin(`${b}.attn.proj`, O, T, h, h);
  const x1 = new Float64Array(T * h);
  for (let r = 0; r < T; r++) {
    for (let k = 0; k < h; k++) x1[r * h + k] = x[r * h + k] + mod[2 * h + k] * A[r * h + k];
  }
  const n2 = lnF(x1, T, h);
  const m2 = modulate(n2.y, T, h, mod, 3 * h, 4 * h);
  const H1 = lin(`${b}.mlp.fc1`, m2, T, h, f);
  const G = mapA(H1, gelu);
  const M = lin(`${b}.mlp.fc2`, G, T, f, h);
  const x2 = new Float64Array(T * h);
  for (let r = 0; r < T; r++) {
    for (let k = 0; k < h; k++) x2[r * h + k] = x1[r * h + k] + mod[5 * h + k] * M[r * h + k];
  }
  const cache: BlockCache = { mod, n1, m1, qkv, P, O, A, x1, n2, m2, H1, G, M };
  return { out: x2, cache };
}

/** Backward of one block: returns dx (input) and accumulates d(SiLU(c)) into dsc. */
function blockB(
  cfg: DitConfig,
  p: View,
  g: View,
  i: number,
  sc: Float64Array,
  c: BlockCache,
  dOut: Float64Array,
  dsc: Float64Array,
): Float64Array {
  const h = cfg.hidden, T = ditTokens(cfg), f = cfg.mlpRatio * h, b = `blocks.${i}`;
  const dmod = new Float64Array(6 * h);
  // x2 = x1 + gate2·M
  const dM = new Float64Array(T * h);
  for (let r = 0; r < T; r++) {
    for (let k = 0; k < h; k++) {
      dM[r * h + k] = dOut[r * h + k] * c.mod[5 * h + k];
      dmod[5 * h + k] += dOut[r * h + k] * c.M[r * h + k];
    }
  }
  const dG = linB(
    dM,
    c.G,
    T,
    f,
    p(`${b}.mlp.fc2.weight`),
    h,
    g(`${b}.mlp.fc2.weight`),
    g(`${b}.mlp.fc2.bias`),
  );
  for (let k = 0; k < dG.length; k++) dG[k] *= geluGrad(c.H1[k]);
  const dm2 = linB(
    dG,
    c.m2,
    T,
    h,
    p(`${b}.mlp.fc1.weight`),
    f,
    g(`${b}.mlp.fc1.weight`),
    g(`${b}.mlp.fc1.bias`),
  );
  const dn2 = modulateB(dm2, c.n2.y, T, h, c.mod, dmod, 3 * h, 4 * h);
  const dx1 = lnB(dn2, c.n2.y, c.n2.rstd, T, h);
  for (let k = 0; k < dx1.length; k++) dx1[k] += dOut[k];
  // x1 = x + gate1·A
  const dA = new Float64Array(T * h);
  for (let r = 0; r < T; r++) {
    for (let k = 0; k < h; k++) {
      dA[r * h + k] = dx1[r * h + k] * c.mod[2 * h + k];
      dmod[2 * h + k] += dx1[r * h + k] * c.A[r * h + k];
    }
  }
  const dO = linB(
    dA,
    c.O,
    T,
    h,
    p(`${b}.attn.proj.weight`),
    h,
    g(`${b}.attn.proj.weight`),
    g(`${b}.attn.proj.bias`),
  );
  const dqkv = attnB(dO, c.qkv, c.P, T, h, cfg.heads);
  const dm1 = linB(
    dqkv,
    c.m1,
    T,
    h,
    p(`${b}.attn.qkv.weight`),
    3 * h,
    g(`${b}.attn.qkv.weight`),
    g(`${b}.attn.qkv.bias`),
  );
  const dn1 = modulateB(dm1, c.n1.y, T, h, c.mod, dmod, 0, h);
  const dx = lnB(dn1, c.n1.y, c.n1.rstd, T, h);
  for (let k = 0; k < dx.length; k++) dx[k] += dx1[k];
  const dsc1 = linB(
    dmod,
    sc,
    1,
    h,
    p(`${b}.adaLN_modulation.1.weight`),
    6 * h,
    g(`${b}.adaLN_modulation.1.weight`),
    g(`${b}.adaLN_modulation.1.bias`),
  );
  for (let k = 0; k < h; k++) dsc[k] += dsc1[k];
  return dx;
}

/**
 * One DiT block on one sample: x [T, hidden] and c [hidden] (the conditioning before SiLU) → x' [T, hidden].
 * With zero-initialised adaLN modulation the gates are 0 and the block is the identity (adaLN-Zero).
 */
export function ditBlockForward(
  cfg: DitConfig,
  params: Float64Array,
  block: number,
  x: Float64Array,
  c: Float64Array,
): Float64Array {
  const layout = ditLayout(cfg);
  return blockF(cfg, linears((n) => tensorView(layout, params, n)), block, x, mapA(c, silu)).out;
}

/** Patchify sample b of x [B, C, H, W] into [T, C·p·p] rows ordered (c, i, j). */
function patchify(cfg: DitConfig, x: ArrayLike<number>, b: number): Float64Array {
  const C = cfg.inChannels, p = cfg.patch, S = cfg.inputSize, G = S / p, P = ditPatchDim(cfg);
  const out = new Float64Array(G * G * P);
  for (let py = 0; py < G; py++) {
    for (let px = 0; px < G; px++) {
      const o = (py * G + px) * P;
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < p; i++) {
          for (let j = 0; j < p; j++) {
            out[o + (c * p + i) * p + j] = x[((b * C + c) * S + py * p + i) * S + px * p + j];
          }
        }
      }
    }
  }
  return out;
}

/** Index in [C, H, W] of final-linear output k of token tok (within-patch order (i, j, c)). */
function unpatchIndex(cfg: DitConfig, tok: number, k: number): number {
  const C = cfg.inChannels, p = cfg.patch, S = cfg.inputSize, G = S / p;
  const py = Math.floor(tok / G), px = tok % G;
  const c = k % C, ij = Math.floor(k / C), i = Math.floor(ij / p), j = ij % p;
  return (c * S + py * p + i) * S + px * p + j;
}

/** Full forward of one sample with everything the backward needs (`lin`: the linear layers of `p`). */
function sampleF(cfg: DitConfig, p: View, lin: Lin, inp: DitInput, b: number) {
  const h = cfg.hidden, T = ditTokens(cfg), P = ditPatchDim(cfg);
  const patches = patchify(cfg, inp.x, b);
  const x0 = lin("x_embedder.proj", patches, T, P, h);
  const pos = p("pos_embed");
  for (let k = 0; k < x0.length; k++) x0[k] += pos[k];
  const tf = timestepEmbedding(inp.t[b]);
  const a1 = lin("t_embedder.mlp.0", tf, 1, FREQ_DIM, h);
  const s1 = mapA(a1, silu);
  const temb = lin("t_embedder.mlp.2", s1, 1, h, h);
  const y = inp.y[b];
  if (!(Number.isInteger(y) && y >= 0 && y <= cfg.numClasses)) {
    throw new Error(`dit: label ${y} out of range`);
  }
  const table = p("y_embedder.embedding_table.weight");
  const c = new Float64Array(h);
  for (let k = 0; k < h; k++) c[k] = temb[k] + table[y * h + k];
  const sc = mapA(c, silu);
  const xs: Float64Array[] = [x0];
  const caches: BlockCache[] = [];
  for (let i = 0; i < cfg.depth; i++) {
    const r = blockF(cfg, lin, i, xs[i], sc);
    xs.push(r.out);
    caches.push(r.cache);
  }
  const fmod = lin("final_layer.adaLN_modulation.1", sc, 1, h, 2 * h);
  const nf = lnF(xs[cfg.depth], T, h);
  const mf = modulate(nf.y, T, h, fmod, 0, h);
  const out = lin("final_layer.linear", mf, T, h, P);
  return { patches, tf, a1, s1, y, c, sc, xs, caches, fmod, nf, mf, out };
}

/**
 * ε̂ [B, C, H, W] of a batch (float64). `params` is the flat layout buffer (float32 or float64); `hook`, when
 * given, sees (and may replace) the input of every linear layer, sample by sample ({@link LinearInputHook}).
 */
export function ditForward(
  cfg: DitConfig,
  params: Float32Array | Float64Array,
  inp: DitInput,
  hook?: LinearInputHook,
): Float64Array {
  const layout = ditLayout(cfg);
  const flat = params instanceof Float64Array ? params : toFloat64(params);
  const p: View = (n) => tensorView(layout, flat, n);
  const lin = linears(p, hook);
  const S = cfg.inputSize, C = cfg.inChannels, T = ditTokens(cfg), P = ditPatchDim(cfg);
  const eps = new Float64Array(inp.batch * C * S * S);
  for (let b = 0; b < inp.batch; b++) {
    const { out } = sampleF(cfg, p, lin, inp, b);
    const base = b * C * S * S;
    for (let tok = 0; tok < T; tok++) {
      for (let k = 0; k < P; k++) eps[base + unpatchIndex(cfg, tok, k)] = out[tok * P + k];
    }
  }
  return eps;
}

/** Mean (ε̂ − ε)² over all values of the batch. */
export function ditLoss(
  cfg: DitConfig,
  params: Float32Array | Float64Array,
  inp: DitInput,
  target: ArrayLike<number>,
): number {
  const eps = ditForward(cfg, params, inp);
  let s = 0;
  for (let k = 0; k < eps.length; k++) s += (eps[k] - target[k]) ** 2;
  return s / eps.length;
}

/**
 * Loss (mean (ε̂ − ε)²) and its gradient with respect to every tensor of the flat layout, pos_embed
 * included (it is fixed in training; its gradient is returned for completeness).
 */
export function ditLossAndGrads(
  cfg: DitConfig,
  params: Float32Array | Float64Array,
  inp: DitInput,
  target: ArrayLike<number>,
): { loss: number; grads: Float64Array } {
  const layout = ditLayout(cfg);
  const flat = params instanceof Float64Array ? params : toFloat64(params);
  const grads = new Float64Array(layout.totalFloats);
  const p: View = (n) => tensorView(layout, flat, n);
  const g: View = (n) => tensorView(layout, grads, n);
  const lin = linears(p);
  const h = cfg.hidden, S = cfg.inputSize, C = cfg.inChannels, T = ditTokens(cfg), P = ditPatchDim(cfg);
  const count = inp.batch * C * S * S;
  let loss = 0;
  for (let b = 0; b < inp.batch; b++) {
    const f = sampleF(cfg, p, lin, inp, b);
    const base = b * C * S * S;
    const dout = new Float64Array(T * P);
    for (let tok = 0; tok < T; tok++) {
      for (let k = 0; k < P; k++) {
        const idx = base + unpatchIndex(cfg, tok, k);
        const e = f.out[tok * P + k] - target[idx];
        loss += e * e;
        dout[tok * P + k] = 2 * e / count;
      }
    }
    const dsc = new Float64Array(h);
    const dmf = linB(
      dout,
      f.mf,
      T,
      h,
      p("final_layer.linear.weight"),
      P,
      g("final_layer.linear.weight"),
      g("final_layer.linear.bias"),
    );
    const dfmod = new Float64Array(2 * h);
    const dnf = modulateB(dmf, f.nf.y, T, h, f.fmod, dfmod, 0, h);
    let dx = lnB(dnf, f.nf.y, f.nf.rstd, T, h);
    const d1 = linB(
      dfmod,
      f.sc,
      1,
      h,
      p("final_layer.adaLN_modulation.1.weight"),
      2 * h,
      g("final_layer.adaLN_modulation.1.weight"),
      g("final_layer.adaLN_modulation.1.bias"),
    );
    for (let k = 0; k < h; k++) dsc[k] += d1[k];
    for (let i = cfg.depth - 1; i >= 0; i--) dx = blockB(cfg, p, g, i, f.sc, f.caches[i], dx, dsc);
    // tokens = patches·Wᵀ + b + pos
    const gpos = g("pos_embed");
    for (let k = 0; k < dx.length; k++) gpos[k] += dx[k];
    linB(
      dx,
      f.patches,
      T,
      P,
      p("x_embedder.proj.weight"),
      h,
      g("x_embedder.proj.weight"),
      g("x_embedder.proj.bias"),
    );
    // c = temb + table[y]; sc = SiLU(c)
    const dc = new Float64Array(h);
    for (let k = 0; k < h; k++) dc[k] = dsc[k] * siluGrad(f.c[k]);
    const gt = g("y_embedder.embedding_table.weight");
    for (let k = 0; k < h; k++) gt[f.y * h + k] += dc[k];
    const ds1 = linB(
      dc,
      f.s1,
      1,
      h,
      p("t_embedder.mlp.2.weight"),
      h,
      g("t_embedder.mlp.2.weight"),
      g("t_embedder.mlp.2.bias"),
    );
    for (let k = 0; k < h; k++) ds1[k] *= siluGrad(f.a1[k]);
    linB(
      ds1,
      f.tf,
      1,
      FREQ_DIM,
      p("t_embedder.mlp.0.weight"),
      h,
      g("t_embedder.mlp.0.weight"),
      g("t_embedder.mlp.0.bias"),
    );
  }
  return { loss: loss / count, grads };
}
