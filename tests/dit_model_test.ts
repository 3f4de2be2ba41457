/** The GPU DiT against the float64 TypeScript DiT: loss, ε̂ and every parameter gradient; one training step moves the loss. */
import assert from "node:assert/strict";
import { Rng } from "../lib/engine/rng.ts";
import { sharedRuntime } from "../lib/gpu/runtime.ts";
import { ditLayout, initDitParams, resolveDitConfig } from "../lib/models/dit/config.ts";
import { ditForward, ditLossAndGrads } from "../lib/models/dit/reference.ts";
import { GpuDit } from "../lib/models/dit/model.ts";

const cfg = resolveDitConfig({ hidden: 32, depth: 2, heads: 2, patch: 4 });
const B = 8;

function perturbed(seed: number): Float32Array {
  const p = initDitParams(cfg, seed);
  const rng = new Rng(seed, 99);
  for (const t of ditLayout(cfg).tensors) {
    if (!t.trainable) continue;
    for (let i = 0; i < t.size; i++) p[t.offset + i] += 0.1 * rng.normal();
  }
  return p;
}

function batch(seed: number) {
  const rng = new Rng(seed, 7);
  const n = B * 28 * 28;
  return {
    x: Float32Array.from({ length: n }, () => rng.normal()),
    t: Int32Array.from({ length: B }, (_, b) => [17, 600, 999, 0][b % 4]),
    y: Int32Array.from({ length: B }, (_, b) => [3, 10, 7, 0][b % 4]),
    target: Float32Array.from({ length: n }, () => rng.normal()),
  };
}

Deno.test("dit GPU: loss, ε̂ and gradients match the float64 reference (padded tokens masked)", async () => {
  const { rt } = await sharedRuntime();
  const params = perturbed(4);
  const inp = batch(5);
  const ref = ditLossAndGrads(cfg, params, { batch: B, x: inp.x, t: inp.t, y: inp.y }, inp.target);
  const m = GpuDit.create(rt, cfg, { batch: B });
  try {
    m.setParams(params);
    m.writeInputs(inp);
    const eps = await m.predict();
    const want = ditForward(cfg, params, { batch: B, x: inp.x, t: inp.t, y: inp.y });
    let e = 0, s = 0;
    for (let i = 0; i < eps.length; i++) {
      e = Math.max(e, Math.abs(eps[i] - want[i])), s = Math.max(s, Math.abs(want[i]));
    }
    assert.ok(e <= 1e-4 * Math.max(1, s), `ε̂ max error ${e} (scale ${s})`);
    m.gradProgram.submit(rt.device);
    const loss = (await m.readFloats(m.scalars, 4))[0];
    assert.ok(Math.abs(loss - ref.loss) <= 1e-5 * ref.loss, `loss ${loss} vs ${ref.loss}`);
    const g = await m.readFloats(m.grads);
    for (const t of ditLayout(cfg).tensors) {
      if (!t.trainable) continue;
      let num = 0, den = 0;
      for (let i = t.offset; i < t.offset + t.size; i++) {
        num += (g[i] - ref.grads[i]) ** 2, den += ref.grads[i] ** 2;
      }
      assert.ok(
        Math.sqrt(num) <= 1e-4 * Math.sqrt(den) + 1e-9,
        `${t.name}: rel error ${Math.sqrt(num / den)}`,
      );
    }
    const pos = ditLayout(cfg).byName.get("pos_embed")!;
    assert.ok(
      g.subarray(pos.offset, pos.offset + pos.size).every((v) => v === 0),
      "pos_embed gets no gradient",
    );
  } finally {
    m.destroy();
  }
});

Deno.test("dit GPU: adaLN-Zero blocks start as the identity (depth 2 = depth 1, bit for bit)", async () => {
  const { rt } = await sharedRuntime();
  const deep = resolveDitConfig({ hidden: 32, depth: 2, heads: 2, patch: 4 });
  const shallow = resolveDitConfig({ hidden: 32, depth: 1, heads: 2, patch: 4 });
  // trained-looking everything, except the blocks' zero-initialised adaLN modulations (DiT init)
  const pd = perturbed(6), ps = initDitParams(shallow, 6);
  const ld = ditLayout(deep), ls = ditLayout(shallow);
  for (const t of ld.tensors) {
    if (/^blocks\.\d+\.adaLN_modulation/.test(t.name)) pd.fill(0, t.offset, t.offset + t.size);
    const s = ls.byName.get(t.name);
    if (s) ps.set(pd.subarray(t.offset, t.offset + t.size), s.offset);
  }
  const inp = batch(8);
  const out = async (c: typeof deep, p: Float32Array) => {
    const m = GpuDit.create(rt, c, { batch: B, train: false });
    try {
      m.setParams(p);
      m.writeInputs(inp);
      return await m.predict();
    } finally {
      m.destroy();
    }
  };
  const [a, b] = [await out(deep, pd), await out(shallow, ps)];
  assert.ok(a.some((v) => v !== 0), "the output is not trivially zero");
  assert.deepEqual(a, b);
});
