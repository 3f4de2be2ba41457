/**
 * Float64 TypeScript references of the layer kernels added for the DiT (kernels/engine/ops.ts): bias add and
 * gradient, bidirectional softmax with a key mask, LayerNorm + adaLN modulation (forward, modulation
 * gradients, input gradient), GELU-tanh, SiLU, the gated residual and the masked squared error. Each is
 * compared with its WGSL kernel in tests/layers_kernels_test.ts.
 * @module
 */
type Arr = ArrayLike<number>;

/** Y[m, n] + b[n]. */
export function biasAdd(Y: Arr, b: Arr, M: number, N: number): Float64Array {
  return Float64Array.from({ length: M * N }, (_, i) => Y[i] + b[i % N]);
}

/** db[n] = Σ_m dY[m, n]. */
export function biasGrad(dY: Arr, M: number, N: number): Float64Array {
  const out = new Float64Array(N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) out[n] += dY[m * N + n];
  return out;
}

/** Row softmax of S [Z·T, T] over the first `keys` columns (the rest 0). */
export function softmaxMasked(S: Arr, Z: number, T: number, keys = T): Float64Array {
  const out = new Float64Array(Z * T * T);
  for (let r = 0; r < Z * T; r++) {
    let mx = -Infinity;
    for (let j = 0; j < keys; j++) mx = Math.max(mx, S[r * T + j]);
    let s = 0;
    for (let j = 0; j < keys; j++) s += out[r * T + j] = Math.exp(S[r * T + j] - mx);
    for (let j = 0; j < keys; j++) out[r * T + j] /= s;
  }
  return out;
}

/** Softmax backward per row: P ⊙ (dP − Σ P·dP). */
export function softmaxBwdFull(P: Arr, dP: Arr, Z: number, T: number): Float64Array {
  const out = new Float64Array(Z * T * T);
  for (let r = 0; r < Z * T; r++) {
    let s = 0;
    for (let j = 0; j < T; j++) s += P[r * T + j] * dP[r * T + j];
    for (let j = 0; j < T; j++) out[r * T + j] = P[r * T + j] * (dP[r * T + j] - s);
  }
  return out;
}

/** Per-row mean, rstd and x̂ of LayerNorm without affine. */
function lnRow(X: Arr, m: number, D: number, eps: number): { mu: number; r: number; xh: Float64Array } {
  let mu = 0;
  for (let j = 0; j < D; j++) mu += X[m * D + j];
  mu /= D;
  let v = 0;
  for (let j = 0; j < D; j++) v += (X[m * D + j] - mu) ** 2;
  const r = 1 / Math.sqrt(v / D + eps);
  return { mu, r, xh: Float64Array.from({ length: D }, (_, j) => (X[m * D + j] - mu) * r) };
}

/** LN(X)·(1 + mod[b, scaleAt..]) + mod[b, shiftAt..] for rows m of sample b = m / T. */
export function lnModFwd(
  X: Arr,
  mod: Arr,
  B: number,
  T: number,
  D: number,
  eps: number,
  stride: number,
  shiftAt: number,
  scaleAt: number,
): Float64Array {
  const out = new Float64Array(B * T * D);
  for (let m = 0; m < B * T; m++) {
    const { xh } = lnRow(X, m, D, eps), b = Math.floor(m / T);
    for (let j = 0; j < D; j++) {
      out[m * D + j] = xh[j] * (1 + mod[b * stride + scaleAt + j]) + mod[b * stride + shiftAt + j];
    }
  }
  return out;
}

/** Gradients of LN + modulation: dX [B·T, D], dshift and dscale [B, D]. */
export function lnModBwd(
  dY: Arr,
  X: Arr,
  mod: Arr,
  B: number,
  T: number,
  D: number,
  eps: number,
  stride: number,
  scaleAt: number,
): { dX: Float64Array; dShift: Float64Array; dScale: Float64Array } {
  const dX = new Float64Array(B * T * D), dShift = new Float64Array(B * D), dScale = new Float64Array(B * D);
  for (let m = 0; m < B * T; m++) {
    const { r, xh } = lnRow(X, m, D, eps), b = Math.floor(m / T);
    const g = Float64Array.from({ length: D }, (_, j) => dY[m * D + j] * (1 + mod[b * stride + scaleAt + j]));
    let sg = 0, sgx = 0;
    for (let j = 0; j < D; j++) {
      sg += g[j], sgx += g[j] * xh[j];
      dShift[b * D + j] += dY[m * D + j];
      dScale[b * D + j] += dY[m * D + j] * xh[j];
    }
    for (let j = 0; j < D; j++) dX[m * D + j] = r * (g[j] - sg / D - xh[j] * sgx / D);
  }
  return { dX, dShift, dScale };
}

const C = Math.sqrt(2 / Math.PI);

/** GELU (tanh approximation). */
export function gelu(h: Arr): Float64Array {
  return Float64Array.from(h, (x) => 0.5 * x * (1 + Math.tanh(C * (x + 0.044715 * x ** 3))));
}

/** dA · gelu'(h). */
export function geluBwd(h: Arr, dA: Arr): Float64Array {
  return Float64Array.from(h, (x, i) => {
    const t = Math.tanh(C * (x + 0.044715 * x ** 3));
    return dA[i] * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * 0.044715 * x * x));
  });
}

/** SiLU. */
export function silu(h: Arr): Float64Array {
  return Float64Array.from(h, (x) => x / (1 + Math.exp(-x)));
}

/** dA · silu'(h). */
export function siluBwd(h: Arr, dA: Arr): Float64Array {
  return Float64Array.from(h, (x, i) => {
    const s = 1 / (1 + Math.exp(-x));
    return dA[i] * s * (1 + x * (1 - s));
  });
}

/** X + mod[b, gateAt..]·H per row of sample b = m / T; and the backward (dH, dgate). */
export function gate(
  X: Arr,
  mod: Arr,
  H: Arr,
  dY: Arr,
  B: number,
  T: number,
  D: number,
  stride: number,
  gateAt: number,
): { Y: Float64Array; dH: Float64Array; dGate: Float64Array } {
  const Y = new Float64Array(B * T * D), dH = new Float64Array(B * T * D), dGate = new Float64Array(B * D);
  for (let m = 0; m < B * T; m++) {
    const b = Math.floor(m / T);
    for (let j = 0; j < D; j++) {
      const g = mod[b * stride + gateAt + j], i = m * D + j;
      Y[i] = X[i] + g * H[i];
      dH[i] = g * dY[i];
      dGate[b * D + j] += dY[i] * H[i];
    }
  }
  return { Y, dH, dGate };
}

/** Per-row squared error and gradient 2(Y − E)·scale; rows with m mod T ≥ real are padding (0, 0). */
export function mseRows(
  Y: Arr,
  E: Arr,
  M: number,
  N: number,
  scale: number,
  T = M,
  real = T,
): { loss: Float64Array; dY: Float64Array } {
  const loss = new Float64Array(M), dY = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    if (m % T >= real) continue;
    for (let j = 0; j < N; j++) {
      const e = Y[m * N + j] - E[m * N + j];
      loss[m] += e * e;
      dY[m * N + j] = 2 * e * scale;
    }
  }
  return { loss, dY };
}
