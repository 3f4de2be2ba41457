/**
 * Sample quality of MNIST generators in a fixed, documented feature space — not FID (no Inception net).
 *
 * Feature space "PCA-64": the top 64 principal components of the 9,000 training digits of
 * {@link loadMnist} (pixels in [−1, 1]; covariance with divisor n − 1; eigenvectors from
 * {@link symEigenTop}, each sign-fixed so its largest-magnitude entry is positive). A digit's features are
 * its centred pixels projected on those 64 unit vectors.
 *
 * - "Fréchet distance (PCA-64)": ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2·tr (Σ₁^½ Σ₂ Σ₁^½)^½ between the Gaussian
 *   fits (mean, covariance with divisor n − 1) of two feature sets — by convention 1,000 generated digits
 *   against the 1,000 held-out digits.
 * - "1-NN accuracy": the fraction of conditional samples whose nearest training digit (Euclidean, in
 *   PCA-64 space) has the label the sample was conditioned on.
 *
 * Public API: {@link mnistPca}, {@link frechetFromStats}, {@link frechetDistance}, {@link gaussianStats},
 * {@link nearestNeighbourLabels}, {@link classify1nn}, {@link sampleQuality}.
 * @module
 */
import { loadMnist, MNIST_PIXELS } from "../../data/mnist.ts";
import { sqrtPsd, symEigen, symEigenTop } from "../../eval/eigen.ts";

/** Feature dimension of the documented feature space. */
export const PCA_DIM = 64;

/** A PCA feature space over 784-pixel digits. */
export interface PcaSpace {
  /** Components kept. */
  k: number;
  /** Pixel mean [784]. */
  mean: Float64Array;
  /** Unit principal directions, row-major [k, 784], largest variance first. */
  basis: Float64Array;
  /** Variance along each direction [k]. */
  variances: Float64Array;
}

let cachedPca: PcaSpace | undefined;

/** The PCA-64 space of the MNIST training split (computed once per process, a few seconds). */
export function mnistPca(): PcaSpace {
  if (cachedPca) return cachedPca;
  const { train } = loadMnist();
  cachedPca = pcaOf(train.images, train.count, PCA_DIM);
  return cachedPca;
}

/** PCA of `count` rows of 784 pixels in [−1, 1] (sparse-friendly: most pixels are −1). */
export function pcaOf(images: Float32Array, count: number, k: number): PcaSpace {
  const D = MNIST_PIXELS;
  // Second moments of u = (x + 1)/2, which is 0 on the background: accumulate over non-zero pixels only.
  const S = new Float64Array(D * D), mu = new Float64Array(D);
  const idx = new Int32Array(D), val = new Float64Array(D);
  for (let r = 0; r < count; r++) {
    let nz = 0;
    for (let i = 0; i < D; i++) {
      const u = (images[r * D + i] + 1) / 2;
      if (u !== 0) idx[nz] = i, val[nz++] = u;
    }
    for (let a = 0; a < nz; a++) {
      const ia = idx[a], va = val[a], row = ia * D;
      mu[ia] += va;
      for (let b = a; b < nz; b++) S[row + idx[b]] += va * val[b];
    }
  }
  for (let i = 0; i < D; i++) mu[i] /= count;
  const cov = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = i; j < D; j++) {
      cov[i * D + j] = cov[j * D + i] = 4 * (S[i * D + j] - count * mu[i] * mu[j]) / (count - 1);
    }
  }
  const { values, vectors: basis } = symEigenTop(cov, D, k);
  for (let c = 0; c < k; c++) {
    let big = 0;
    for (let i = 0; i < D; i++) if (Math.abs(basis[c * D + i]) > Math.abs(big)) big = basis[c * D + i];
    if (big < 0) { for (let i = 0; i < D; i++) basis[c * D + i] = -basis[c * D + i]; }
  }
  return { k, mean: mu.map((m) => 2 * m - 1), basis, variances: values };
}

/** Features [count, k] of `count` digits [count, 784]. */
export function project(space: PcaSpace, images: ArrayLike<number>, count: number): Float64Array {
  const D = MNIST_PIXELS, k = space.k, out = new Float64Array(count * k), c = new Float64Array(D);
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < D; i++) c[i] = images[r * D + i] - space.mean[i];
    for (let j = 0; j < k; j++) {
      let s = 0;
      const b = j * D;
      for (let i = 0; i < D; i++) s += c[i] * space.basis[b + i];
      out[r * k + j] = s;
    }
  }
  return out;
}

/** Mean [d] and covariance [d, d] (divisor n − 1) of n feature rows. */
export function gaussianStats(
  f: ArrayLike<number>,
  n: number,
  d: number,
): { mean: Float64Array; cov: Float64Array } {
  if (n < 2) throw new Error("quality: need at least 2 samples for a covariance");
  const mean = new Float64Array(d), cov = new Float64Array(d * d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) mean[i] += f[r * d + i];
  for (let i = 0; i < d; i++) mean[i] /= n;
  const c = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) c[i] = f[r * d + i] - mean[i];
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) cov[i * d + j] += c[i] * c[j];
  }
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) cov[i * d + j] = cov[j * d + i] = cov[i * d + j] / (n - 1);
  }
  return { mean, cov };
}

/** Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂) in d dimensions. */
export function frechetFromStats(
  mu1: ArrayLike<number>,
  s1: ArrayLike<number>,
  mu2: ArrayLike<number>,
  s2: ArrayLike<number>,
  d: number,
): number {
  let dist = 0, tr = 0;
  for (let i = 0; i < d; i++) {
    dist += (mu1[i] - mu2[i]) ** 2;
    tr += s1[i * d + i] + s2[i * d + i];
  }
  const r1 = sqrtPsd(s1, d);
  // M = Σ₁^½ Σ₂ Σ₁^½ (symmetric PSD); tr (Σ₁Σ₂)^½ = Σ √λ(M).
  const t = new Float64Array(d * d), M = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const a = r1[i * d + k];
      if (a === 0) continue;
      for (let j = 0; j < d; j++) t[i * d + j] += a * s2[k * d + j];
    }
  }
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const a = t[i * d + k];
      for (let j = 0; j < d; j++) M[i * d + j] += a * r1[k * d + j];
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) M[i * d + j] = M[j * d + i] = (M[i * d + j] + M[j * d + i]) / 2;
  }
  const { values } = symEigen(M, d);
  let trSqrt = 0;
  for (const v of values) trSqrt += Math.sqrt(Math.max(0, v));
  return Math.max(0, dist + tr - 2 * trSqrt);
}

/** Fréchet distance between the Gaussian fits of two feature sets (rows of d values). */
export function frechetDistance(
  a: ArrayLike<number>,
  na: number,
  b: ArrayLike<number>,
  nb: number,
  d: number,
): number {
  const sa = gaussianStats(a, na, d), sb = gaussianStats(b, nb, d);
  return frechetFromStats(sa.mean, sa.cov, sb.mean, sb.cov, d);
}

/** Label of the nearest reference row (squared Euclidean) for each query row. */
export function nearestNeighbourLabels(
  q: Float64Array,
  nq: number,
  ref: Float64Array,
  refLabels: ArrayLike<number>,
  nr: number,
  d: number,
): Int32Array {
  const rn = new Float64Array(nr);
  for (let r = 0; r < nr; r++) for (let i = 0; i < d; i++) rn[r] += ref[r * d + i] ** 2;
  const out = new Int32Array(nq);
  for (let a = 0; a < nq; a++) {
    let best = Infinity, arg = 0;
    const qo = a * d;
    for (let r = 0; r < nr; r++) {
      let dot = 0;
      const ro = r * d;
      for (let i = 0; i < d; i++) dot += q[qo + i] * ref[ro + i];
      const dist = rn[r] - 2 * dot;
      if (dist < best) best = dist, arg = r;
    }
    out[a] = refLabels[arg];
  }
  return out;
}

/** Quality figures of conditional samples. */
export interface SampleQuality {
  /** Fréchet distance (PCA-64) between the samples and the held-out digits. */
  frechetPca64: number;
  /** Fraction of samples whose 1-NN training digit (PCA-64) has the conditioning label. */
  accuracy1nn: number;
  /** Generated digits used. */
  generated: number;
  /** Held-out digits used. */
  heldOut: number;
}

let trainFeatures: Float64Array | undefined;

/** Labels of the nearest training digits (PCA-64, Euclidean) of `count` digits [count, 784]. */
export function classify1nn(images: ArrayLike<number>, count: number): Int32Array {
  const space = mnistPca(), { train } = loadMnist();
  trainFeatures ??= project(space, train.images, train.count);
  return nearestNeighbourLabels(
    project(space, images, count),
    count,
    trainFeatures,
    train.labels,
    train.count,
    space.k,
  );
}

/** Fréchet distance (PCA-64) against the held-out split and 1-NN class accuracy of labelled samples. */
export function sampleQuality(images: ArrayLike<number>, labels: ArrayLike<number>): SampleQuality {
  const n = labels.length;
  if (images.length !== n * MNIST_PIXELS) throw new Error(`quality: ${images.length} pixels for ${n} digits`);
  const space = mnistPca(), { val } = loadMnist();
  const f = project(space, images, n);
  const fv = project(space, val.images, val.count);
  const nn = classify1nn(images, n);
  let hit = 0;
  for (let i = 0; i < n; i++) if (nn[i] === labels[i]) hit++;
  return {
    frechetPca64: frechetDistance(f, n, fv, val.count, space.k),
    accuracy1nn: hit / n,
    generated: n,
    heldOut: val.count,
  };
}
