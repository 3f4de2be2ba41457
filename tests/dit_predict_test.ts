/**
 * The GPU DiT's inference path (gpuPredictor: a forward-only model, chunked with a ragged last chunk) against
 * the float64 reference on real inputs — noised held-out digits at t across [0, 999], real labels and the
 * null class — and a guided DDIM chain driven by each predictor ending at the same images.
 */
import assert from "node:assert/strict";
import { Rng } from "../lib/engine/rng.ts";
import { ditLayout, initDitParams, resolveDitConfig } from "../lib/models/dit/config.ts";
import { gpuPredictor } from "../lib/models/dit/gpu_predictor.ts";
import { referencePredictor, sampleByClass } from "../lib/models/dit/sample.ts";
import { evalInputsFrom } from "../lib/models/dit/diffusion.ts";
import { mnistValidationInputs } from "../lib/models/dit/evaluate.ts";

const cfg = resolveDitConfig({ hidden: 32, depth: 2, heads: 2, patch: 4 });

/** DiT init with every trainable tensor perturbed (non-zero adaLN, class table and final layer). */
function perturbed(seed: number): Float32Array {
  const p = initDitParams(cfg, seed);
  const rng = new Rng(seed, 99);
  for (const t of ditLayout(cfg).tensors) {
    if (!t.trainable) continue;
    for (let i = 0; i < t.size; i++) p[t.offset + i] += 0.1 * rng.normal();
  }
  return p;
}

function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let e = 0, s = 0;
  for (let i = 0; i < want.length; i++) {
    e = Math.max(e, Math.abs(got[i] - want[i])), s = Math.max(s, Math.abs(want[i]));
  }
  return e / Math.max(1, s);
}

Deno.test("dit predict: GPU ε̂ on noised digits, real t, labels and the null class = float64 reference", async () => {
  const params = perturbed(11);
  // 13 images through a batch-8 model: one full chunk and a ragged one
  const inp = mnistValidationInputs(13, 3);
  const { x, t } = evalInputsFrom(inp);
  const y = Int32Array.from(inp.y, (v, i) => i % 3 === 1 ? cfg.numClasses : v);
  assert.ok(t[0] === 0 && t[12] === 999 && y.includes(cfg.numClasses));
  const gpu = await gpuPredictor(cfg, params, { fwd: "fp32", bwd: "fp32" }, { batch: 8 });
  const got = await gpu(x, t, y), want = await referencePredictor(cfg, params)(x, t, y);
  assert.ok(maxRelError(got, want) <= 1e-4, `ε̂ error ${maxRelError(got, want)}`);
  // the label matters (a model ignoring y, or reading the null row for every label, fails here)
  const yNull = new Int32Array(13).fill(cfg.numClasses);
  assert.ok(maxRelError(await gpu(x, t, yNull), want) > 1e-3, "ε̂ depends on the label");
});

Deno.test("dit predict: a guided DDIM chain through the GPU predictor ends where the reference's does", async () => {
  const params = perturbed(12);
  const gpu = await gpuPredictor(cfg, params, { fwd: "fp32", bwd: "fp32" }, { batch: 8 });
  const o = { perClass: 1, steps: 5, cfg: 4, seed: 5, maxBatch: 12 };
  const a = await sampleByClass(cfg, gpu, o);
  const b = await sampleByClass(cfg, referencePredictor(cfg, params), o);
  assert.deepEqual(a.labels, b.labels);
  assert.ok(maxRelError(a.images, b.images) <= 1e-3, `sample error ${maxRelError(a.images, b.images)}`);
});
