/** The float64 DiT: finite-difference gradients, adaLN-Zero identity, layout and count rules. */
import assert from "node:assert/strict";
import { Rng } from "../lib/engine/rng.ts";
import {
  ditDataTokens,
  ditLayout,
  ditParamCounts,
  initDitParams,
  posEmbed2d,
  resolveDitConfig,
  tensorView,
} from "../lib/models/dit/config.ts";
import { ditBlockForward, ditForward, ditLossAndGrads, toFloat64 } from "../lib/models/dit/reference.ts";

const cfg = resolveDitConfig({ hidden: 16, depth: 2, heads: 2, patch: 7 });

function perturbed(seed: number): Float64Array {
  const p = toFloat64(initDitParams(cfg, seed));
  const rng = new Rng(seed, 99);
  for (const t of ditLayout(cfg).tensors) {
    if (!t.trainable) continue;
    for (let i = 0; i < t.size; i++) p[t.offset + i] += 0.15 * rng.normal();
  }
  return p;
}

function batch(seed: number, B: number) {
  const rng = new Rng(seed, 7);
  const n = B * 28 * 28;
  return {
    inp: {
      batch: B,
      x: Float64Array.from({ length: n }, () => rng.normal()),
      t: Int32Array.from({ length: B }, (_, b) => [17, 600, 999][b % 3]),
      y: Int32Array.from({ length: B }, (_, b) => [3, 10, 7][b % 3]),
    },
    target: Float64Array.from({ length: n }, () => rng.normal()),
  };
}

Deno.test("dit reference: analytic gradients of every tensor match central finite differences", () => {
  const params = perturbed(1);
  const { inp, target } = batch(2, 2);
  const { grads } = ditLossAndGrads(cfg, params, inp, target);
  const lossAt = (p: Float64Array) => ditLossAndGrads(cfg, p, inp, target).loss;
  const rng = new Rng(3);
  let checked = 0;
  for (const t of ditLayout(cfg).tensors) {
    for (let k = 0; k < 2; k++) {
      const i = t.offset + rng.int(t.size);
      const h = 1e-5, old = params[i];
      params[i] = old + h;
      const up = lossAt(params);
      params[i] = old - h;
      const dn = lossAt(params);
      params[i] = old;
      const fd = (up - dn) / (2 * h);
      const err = Math.abs(fd - grads[i]);
      assert.ok(
        err <= 1e-6 * Math.max(1, Math.abs(fd)) + 1e-9,
        `${t.name}[${i - t.offset}]: analytic ${grads[i]} vs finite difference ${fd}`,
      );
      checked++;
    }
  }
  assert.ok(checked >= 2 * (6 + 10 * cfg.depth));
  // A gradient that is identically zero everywhere would pass the above trivially for zero tensors: check
  // that the perturbed model gives every trainable tensor a non-zero gradient.
  for (const t of ditLayout(cfg).tensors) {
    const gsum = grads.subarray(t.offset, t.offset + t.size).reduce((a, b) => a + Math.abs(b), 0);
    assert.ok(gsum > 0, `${t.name}: gradient is all zero`);
  }
});

Deno.test("dit reference: with zero-initialised adaLN (adaLN-Zero) a block is the identity", () => {
  const params = toFloat64(initDitParams(cfg, 5));
  const rng = new Rng(11);
  const x = Float64Array.from({ length: 16 * cfg.hidden }, () => rng.normal());
  const c = Float64Array.from({ length: cfg.hidden }, () => rng.normal());
  for (let i = 0; i < cfg.depth; i++) assert.deepEqual(ditBlockForward(cfg, params, i, x, c), x);
  // …and not the identity once the modulation is non-zero.
  const p2 = perturbed(5);
  const y = ditBlockForward(cfg, p2, 0, x, c);
  assert.ok(y.some((v, k) => Math.abs(v - x[k]) > 1e-3));
  // The zero-initialised final linear makes the initial ε̂ exactly 0.
  const { inp } = batch(4, 2);
  assert.ok(ditForward(cfg, params, inp).every((v) => v === 0));
});

Deno.test("dit config: layout names/shapes, DiT init, 2-D sin-cos pos_embed, parameter counts", () => {
  const c = resolveDitConfig({ hidden: 32, depth: 3, heads: 4, patch: 4 });
  const L = ditLayout(c);
  const shape = (n: string) => L.byName.get(n)?.shape;
  assert.deepEqual(shape("x_embedder.proj.weight"), [32, 1, 4, 4]);
  assert.deepEqual(shape("pos_embed"), [1, 49, 32]);
  assert.deepEqual(shape("t_embedder.mlp.0.weight"), [32, 256]);
  assert.deepEqual(shape("t_embedder.mlp.2.weight"), [32, 32]);
  assert.deepEqual(shape("y_embedder.embedding_table.weight"), [11, 32]);
  assert.deepEqual(shape("blocks.2.attn.qkv.weight"), [96, 32]);
  assert.deepEqual(shape("blocks.2.mlp.fc1.weight"), [128, 32]);
  assert.deepEqual(shape("blocks.2.mlp.fc2.bias"), [32]);
  assert.deepEqual(shape("blocks.0.adaLN_modulation.1.weight"), [192, 32]);
  assert.deepEqual(shape("final_layer.adaLN_modulation.1.bias"), [64]);
  assert.deepEqual(shape("final_layer.linear.weight"), [16, 32]);
  assert.equal(L.tensors.length, 2 + 1 + 4 + 1 + 10 * 3 + 4);
  for (const t of L.tensors) {
    assert.equal(t.offset % 64, 0);
    if (t.linear) assert.ok(t.offset < L.linearFloats, t.name);
    else assert.ok(t.offset >= L.linearFloats, t.name);
  }
  const h = 32;
  const n = ditParamCounts(c);
  assert.equal(n.nonEmbedding, 3 * (18 * h * h + 15 * h) + 2 * h * h + 2 * h);
  assert.equal(n.stored - n.trainable, 49 * h);
  assert.equal(ditDataTokens(c, 1000), 49_000);
  const p = initDitParams(c, 1);
  const v = (name: string) => tensorView(L, p, name);
  assert.ok(v("blocks.1.adaLN_modulation.1.weight").every((x) => x === 0));
  assert.ok(v("final_layer.linear.weight").every((x) => x === 0));
  assert.ok(v("blocks.1.attn.qkv.bias").every((x) => x === 0));
  const qkv = v("blocks.1.attn.qkv.weight"), bound = Math.sqrt(6 / (32 + 96));
  assert.ok(qkv.every((x) => Math.abs(x) <= bound) && qkv.some((x) => Math.abs(x) > 0.8 * bound));
  const tab = v("y_embedder.embedding_table.weight");
  const sd = Math.sqrt(tab.reduce((a, x) => a + x * x, 0) / tab.length);
  assert.ok(sd > 0.015 && sd < 0.025, `table std ${sd}`);
  // pos_embed: token 1 is row 0, column 1: first half encodes the column, second half the row.
  const pe = posEmbed2d(32, 7);
  assert.equal(pe[32 + 0], Math.sin(1));
  assert.equal(pe[32 + 8], Math.cos(1));
  assert.equal(pe[32 + 16], 0);
  assert.equal(pe[32 + 24], 1);
  assert.equal(pe[7 * 32 + 16], Math.sin(1)); // token 7 = row 1, column 0
  assert.equal(pe[7 * 32 + 3], Math.sin(0));
  assert.throws(() => resolveDitConfig({ hidden: 32, depth: 1, heads: 4, patch: 5 }), /does not divide/);
  assert.throws(() => resolveDitConfig({ hidden: 30, depth: 1, heads: 3, patch: 4 }), /multiple of 4/);
});
