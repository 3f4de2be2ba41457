/** Whole-model tests: parameter counts, gradients vs float64 reference and finite differences, schemes. */
import assert from "node:assert/strict";
import { getRuntime } from "../lib/engine/train.ts";
import { GpuModel, packBatch } from "../lib/models/llama/model.ts";
import { initParams, paramCounts, paramLayout, resolveModelConfig } from "../lib/models/llama/config.ts";
import { Rng } from "../lib/engine/rng.ts";
import { modelLossAndGrads } from "../lib/models/llama/reference.ts";
import { resolveRecipe } from "../lib/schemes/resolve.ts";
import type { LinearScheme } from "../lib/layers/linear.ts";
import type { ModelConfig, SchemeChoice } from "../lib/engine/api.ts";

const tiny: ModelConfig = resolveModelConfig({ layers: 2, dModel: 32, heads: 2, context: 32 });
const B = 2;

function tinyBatch(seed: number) {
  const rng = new Rng(seed, 7);
  const M = B * tiny.context;
  const inputs = Array.from({ length: M }, () => 97 + rng.int(12));
  const targets = Array.from({ length: M }, () => 97 + rng.int(12));
  return { inputs, targets };
}

/** Perturbed init so norms and all paths carry signal. */
function tinyParams(): Float32Array {
  const p = initParams(tiny, 3);
  const rng = new Rng(9);
  for (const t of paramLayout(tiny).tensors) {
    const s = t.init.kind === "ones" ? 0.3 : 4; // larger weights: non-trivial attention and MLP
    for (let i = 0; i < t.size; i++) {
      const j = t.offset + i;
      p[j] = t.init.kind === "ones" ? 1 + rng.normal() * s : p[j] * s;
    }
  }
  return p;
}

async function gpuLossAndGrads(params: Float32Array, scheme?: SchemeChoice | LinearScheme) {
  const { rt } = await getRuntime();
  const recipe = scheme && "name" in scheme ? scheme : scheme && resolveRecipe(scheme);
  const m = GpuModel.create(rt, tiny, { batch: B, recipe });
  m.setParams(params);
  const { inputs, targets } = tinyBatch(1);
  m.writeBatch(packBatch(inputs, targets, 256));
  m.gradProgram.submit(rt.device);
  const loss = (await m.readFloats(m.scalars, 4))[0];
  const grads = await m.readFloats(m.grads);
  return { loss, grads };
}

Deno.test("parameter counts are exact (Quartet N definition)", () => {
  // Quartet 30M row: 6 layers, d 640, h 1792 → N = 30,482,560
  const q = paramCounts({ ...tiny, layers: 6, dModel: 640, heads: 5, ffn: 1792 });
  assert.equal(q.nonEmbedding, 30_482_560);
  const ref = resolveModelConfig({ layers: 4, dModel: 128, heads: 4, context: 128 });
  assert.equal(ref.ffn, 352);
  const c = paramCounts(ref);
  assert.equal(c.nonEmbedding, 4 * (4 * 128 * 128 + 3 * 128 * 352 + 2 * 128) + 128);
  assert.equal(c.total, c.nonEmbedding + 2 * 256 * 128);
  const lay = paramLayout(ref);
  assert.equal(lay.tensors.reduce((s, t) => s + t.size, 0), c.total);
  assert.throws(() => resolveModelConfig({ layers: 1, dModel: 48, heads: 2, context: 32 }), /multiple of 32/);
  assert.throws(() => resolveModelConfig({ layers: 1, dModel: 64, heads: 2, context: 40 }), /multiple of 32/);
  assert.throws(() => resolveModelConfig({ layers: 1, dModel: 64, heads: 16, context: 32 }), /head size/);
});

Deno.test("GPU gradients match the float64 reference and central finite differences", async () => {
  const params = tinyParams();
  const { loss, grads } = await gpuLossAndGrads(params);
  const { inputs, targets } = tinyBatch(1);
  const ref = modelLossAndGrads(tiny, params, inputs, targets, B);
  assert.ok(Math.abs(loss - ref.loss) < 1e-4 * ref.loss, `loss ${loss} vs ${ref.loss}`);
  // per tensor: relative L2 error against the reference
  for (const t of paramLayout(tiny).tensors) {
    let num = 0, den = 0;
    for (let i = t.offset; i < t.offset + t.size; i++) {
      num += (grads[i] - ref.grads[i]) ** 2, den += ref.grads[i] ** 2;
    }
    assert.ok(den > 0, `${t.name}: zero reference gradient`);
    assert.ok(Math.sqrt(num / den) < 2e-3, `${t.name}: rel L2 error ${Math.sqrt(num / den)}`);
  }
  // central finite differences (float64 reference loss) at sampled coordinates of every tensor
  const p64 = Float64Array.from(params);
  const rng = new Rng(5);
  const h = 1e-5;
  for (const t of paramLayout(tiny).tensors) {
    for (let s = 0; s < 2; s++) {
      let i = t.offset + rng.int(t.size);
      if (t.name === "model.embed_tokens.weight") {
        i = t.offset + inputs[0] * tiny.dModel + rng.int(tiny.dModel);
      }
      const o = p64[i];
      p64[i] = o + h;
      const lp = modelLossAndGrads(tiny, p64, inputs, targets, B, false).loss;
      p64[i] = o - h;
      const lm = modelLossAndGrads(tiny, p64, inputs, targets, B, false).loss;
      p64[i] = o;
      const fd = (lp - lm) / (2 * h);
      const scale = Math.max(1e-4, Math.abs(fd));
      assert.ok(
        Math.abs(ref.grads[i] - fd) / scale < 1e-4,
        `${t.name}[${i - t.offset}] reference ${ref.grads[i]} vs fd ${fd}`,
      );
      assert.ok(
        Math.abs(grads[i] - fd) / scale < 2e-2,
        `${t.name}[${i - t.offset}] gpu ${grads[i]} vs fd ${fd}`,
      );
    }
  }
});

Deno.test("schemes: identity hooks (with an all-ones estimator) are bit-identical to fp32; bf16 is close", async () => {
  const params = tinyParams();
  const f32 = await gpuLossAndGrads(params);
  const noop = {
    id: "test-noop32",
    group: 32,
    estimator: true,
    wgsl: `fn prep(v: ptr<function, array<f32, 32>>, g: ptr<function, array<f32, 32>>, seed: u32) {}`,
  };
  const id = await gpuLossAndGrads(params, {
    name: "test-noop",
    fwd: { x: noop, w: noop },
    bwd: { dxDy: noop, dxW: noop, dwDy: noop, dwX: noop },
  });
  assert.equal(id.loss, f32.loss);
  assert.deepEqual(id.grads, f32.grads);
  const bf = await gpuLossAndGrads(params, { fwd: "bf16", bwd: "bf16" });
  assert.notEqual(bf.loss, f32.loss);
  assert.ok(Math.abs(bf.loss - f32.loss) < 0.02 * f32.loss, `bf16 loss ${bf.loss} vs ${f32.loss}`);
  let num = 0, den = 0;
  for (let i = 0; i < f32.grads.length; i++) {
    num += (bf.grads[i] - f32.grads[i]) ** 2, den += f32.grads[i] ** 2;
  }
  assert.ok(Math.sqrt(num / den) < 0.05, `bf16 grads rel error ${Math.sqrt(num / den)}`);
  assert.throws(() => resolveRecipe({ fwd: "nope", bwd: "fp32" }), /unknown forward scheme "nope"/);
  assert.throws(() => resolveRecipe({ fwd: "fp32", bwd: "nope" }), /unknown backward scheme "nope"/);
});

Deno.test("GPU gradients match the reference on a shape that takes the texture paths (attention + linear)", async () => {
  const cfg = resolveModelConfig({ layers: 1, dModel: 64, heads: 2, context: 64 });
  const { rt } = await getRuntime();
  const m = GpuModel.create(rt, cfg, { batch: 1 });
  const p = initParams(cfg, 4).map((x) => x * 3);
  m.setParams(p);
  const rng = new Rng(11);
  const inputs = Array.from({ length: 64 }, () => 97 + rng.int(20));
  const targets = Array.from({ length: 64 }, () => 97 + rng.int(20));
  m.writeBatch(packBatch(inputs, targets, 256));
  m.gradProgram.submit(rt.device);
  const loss = (await m.readFloats(m.scalars, 4))[0];
  const grads = await m.readFloats(m.grads);
  const ref = modelLossAndGrads(cfg, p, inputs, targets, 1);
  assert.ok(Math.abs(loss - ref.loss) < 1e-4 * ref.loss, `loss ${loss} vs ${ref.loss}`);
  for (const t of paramLayout(cfg).tensors) {
    let num = 0, den = 0;
    for (let i = t.offset; i < t.offset + t.size; i++) {
      num += (grads[i] - ref.grads[i]) ** 2, den += ref.grads[i] ** 2;
    }
    assert.ok(Math.sqrt(num / den) < 2e-3, `${t.name}: rel L2 error ${Math.sqrt(num / den)}`);
  }
});

Deno.test("texture and packed-BF16 GEMM paths are bit-identical to the storage-buffer paths", async () => {
  const cfg = resolveModelConfig({ layers: 1, dModel: 64, heads: 2, context: 64 });
  const { rt } = await getRuntime();
  const p = initParams(cfg, 5).map((x) => x * 3);
  const rng = new Rng(12);
  const inputs = Array.from({ length: 64 }, () => 97 + rng.int(20));
  const targets = Array.from({ length: 64 }, () => 97 + rng.int(20));
  const run = async (scheme: SchemeChoice, textures: boolean) => {
    const m = GpuModel.create(rt, cfg, { batch: 1, recipe: resolveRecipe(scheme), textures });
    m.setParams(p);
    m.writeBatch(packBatch(inputs, targets, 256));
    m.gradProgram.submit(rt.device);
    return { loss: (await m.readFloats(m.scalars, 4))[0], grads: await m.readFloats(m.grads) };
  };
  for (const s of ["fp32", "bf16"]) {
    const scheme = { fwd: s, bwd: s };
    const [a, b] = [await run(scheme, true), await run(scheme, false)];
    assert.equal(a.loss, b.loss, s);
    assert.deepEqual(a.grads, b.grads, s);
  }
});
