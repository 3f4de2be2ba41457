/** Symmetric eigen-decomposition, Fréchet distance (known cases), PCA-64 feature space and 1-NN accuracy. */
import assert from "node:assert/strict";
import { Rng } from "../lib/engine/rng.ts";
import { sqrtPsd, symEigen, symEigenTop } from "../lib/eval/eigen.ts";
import { loadMnist } from "../lib/data/mnist.ts";
import {
  classify1nn,
  frechetDistance,
  frechetFromStats,
  mnistPca,
  sampleQuality,
} from "../lib/models/dit/quality.ts";

function randomSym(n: number, seed: number): Float64Array {
  const rng = new Rng(seed), A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) A[i * n + j] = A[j * n + i] = rng.normal();
  return A;
}

/** A random rotation (QR of a Gaussian matrix via the eigenvectors of a random symmetric matrix). */
function rotation(n: number, seed: number): Float64Array {
  return symEigen(randomSym(n, seed), n).vectors;
}

Deno.test("eigen: A·v = λ·v, orthonormal vectors, descending values; top-k path agrees; sqrt squares back", () => {
  for (const n of [1, 2, 7, 64]) {
    const A = randomSym(n, n);
    const { values, vectors } = symEigen(A, n);
    const top = symEigenTop(A, n, Math.min(n, 5));
    for (let k = 0; k < n; k++) {
      if (k) assert.ok(values[k] <= values[k - 1]);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += A[i * n + j] * vectors[k * n + j];
        assert.ok(Math.abs(s - values[k] * vectors[k * n + i]) < 1e-12, `n=${n} residual`);
      }
      for (let l = 0; l < n; l++) {
        let dot = 0;
        for (let j = 0; j < n; j++) dot += vectors[k * n + j] * vectors[l * n + j];
        assert.ok(Math.abs(dot - (k === l ? 1 : 0)) < 1e-12, `n=${n} orthonormality`);
      }
      if (k < top.values.length) {
        assert.ok(Math.abs(top.values[k] - values[k]) < 1e-12);
        let dot = 0;
        for (let j = 0; j < n; j++) dot += top.vectors[k * n + j] * vectors[k * n + j];
        assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-10, `n=${n} top-k vector ${k}`);
      }
    }
  }
  // sqrt of a PSD matrix: B = A·Aᵀ, sqrt(B)² = B.
  const n = 10, A = randomSym(n, 3), B = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) B[i * n + j] += A[i * n + k] * A[j * n + k];
  }
  const R = sqrtPsd(B, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += R[i * n + k] * R[k * n + j];
      assert.ok(Math.abs(s - B[i * n + j]) < 1e-9);
    }
  }
});

Deno.test("Fréchet distance: identical → 0, shifted → ‖δ‖², diagonal → Σ(√a−√b)², rotated non-commuting case", () => {
  const d = 6, rng = new Rng(8);
  const a = Float64Array.from({ length: 500 * d }, () => rng.normal() * 2);
  assert.ok(frechetDistance(a, 500, a, 500, d) < 1e-9);
  const delta = [0.5, -1, 0, 2, 0.1, 0];
  const b = a.map((v, i) => v + delta[i % d]);
  const want = delta.reduce((s, x) => s + x * x, 0);
  assert.ok(Math.abs(frechetDistance(a, 500, b, 500, d) - want) < 1e-9);
  const va = [1, 4, 9, 0.25, 2, 3], vb = [4, 1, 9, 1, 8, 0.5];
  const diag = (v: number[]) => {
    const m = new Float64Array(d * d);
    v.forEach((x, i) => m[i * d + i] = x);
    return m;
  };
  const zero = new Float64Array(d);
  const wantDiag = va.reduce((s, x, i) => s + (Math.sqrt(x) - Math.sqrt(vb[i])) ** 2, 0);
  assert.ok(Math.abs(frechetFromStats(zero, diag(va), zero, diag(vb), d) - wantDiag) < 1e-9);
  // Σ₁ = s·I, Σ₂ = R·diag(b)·Rᵀ: tr(Σ₁Σ₂)^½ = √s·Σ√b_i although Σ₂ is not diagonal.
  const R = rotation(d, 5), S2 = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      for (let k = 0; k < d; k++) S2[i * d + j] += R[k * d + i] * vb[k] * R[k * d + j];
    }
  }
  const s = 2.5, S1 = diag(new Array(d).fill(s));
  const wantRot = d * s + vb.reduce((x, y) => x + y, 0) -
    2 * Math.sqrt(s) * vb.reduce((x, y) => x + Math.sqrt(y), 0);
  assert.ok(Math.abs(frechetFromStats(zero, S1, zero, S2, d) - wantRot) < 1e-9);
});

Deno.test("PCA-64 quality on real digits: held-out vs itself 0; true labels classified, shuffled ones at chance", () => {
  const { train, val } = loadMnist();
  const pca = mnistPca();
  assert.equal(pca.k, 64);
  assert.ok(pca.variances[0] > pca.variances[63] && pca.variances[63] > 0);
  const self = sampleQuality(val.images, val.labels);
  assert.ok(self.frechetPca64 < 1e-6, `${self.frechetPca64}`);
  assert.ok(self.accuracy1nn > 0.93, `1-NN accuracy on held-out digits ${self.accuracy1nn}`);
  // 1,000 training digits spread over the split (every 9th): close to held-out, but not 0.
  const pick = Array.from({ length: 1000 }, (_, i) => i * 9);
  const imgs = new Float32Array(1000 * 784), labs = new Int32Array(1000);
  pick.forEach((k, i) => {
    imgs.set(train.images.subarray(k * 784, k * 784 + 784), i * 784);
    labs[i] = train.labels[k];
  });
  const tr = sampleQuality(imgs, labs);
  assert.equal(tr.accuracy1nn, 1); // each is its own nearest neighbour
  assert.ok(tr.frechetPca64 > 0.5 && tr.frechetPca64 < 10, `train-vs-held-out floor ${tr.frechetPca64}`);
  console.log(
    `Fréchet distance (PCA-64), 1,000 training vs 1,000 held-out digits: ${tr.frechetPca64.toFixed(3)}`,
  );
  const shuffled = val.labels.map((_, i) => val.labels[(i * 7 + 3) % val.count]);
  const nn = classify1nn(val.images, val.count);
  const shAcc = nn.reduce((a, y, i) => a + (y === shuffled[i] ? 1 : 0), 0) / val.count;
  assert.ok(shAcc < 0.2, `shuffled labels: ${shAcc}`);
  assert.equal(nn.reduce((a, y, i) => a + (y === val.labels[i] ? 1 : 0), 0) / val.count, self.accuracy1nn);
});
