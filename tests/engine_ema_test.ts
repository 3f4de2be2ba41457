/**
 * The weights' EMA kernel (kernels/engine/ema.ts) against its f32 TypeScript reference (lib/layers/ema.ts),
 * one update at a time and over a warm-up schedule, and the float64 average it replaced.
 */
import assert from "node:assert/strict";
import { getRuntime } from "../lib/engine/train.ts";
import { Program, type Runtime } from "../lib/gpu/runtime.ts";
import { Ema, emaDecay, emaStepF32 } from "../lib/layers/ema.ts";
import { emaUpdate } from "../kernels/engine/ema.ts";
import { Rng } from "../lib/engine/rng.ts";

const rng = new Rng(7);
const randn = (n: number, s = 1) => Float32Array.from({ length: n }, () => rng.normal() * s);

/** Largest |got − want| / (|want| + 1e-30), elementwise. */
function worstRel(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let w = 0;
  for (let i = 0; i < want.length; i++) {
    w = Math.max(w, Math.abs(got[i] - want[i]) / (Math.abs(want[i]) + 1e-30));
  }
  return w;
}

/** An EMA layer over an `n`-float parameter buffer with its recorded program; freed after `body`. */
async function withEma(
  n: number,
  body: (c: { rt: Runtime; params: GPUBuffer; ema: Ema; prog: Program }) => Promise<void>,
): Promise<{ rt: Runtime; params: GPUBuffer }> {
  const { rt } = await getRuntime();
  rt.openArena();
  const params = rt.storage(n * 4, "p"), ema = new Ema(rt, { params, floats: n });
  const owned = rt.closeArena();
  try {
    const prog = new Program();
    ema.record(prog);
    await body({ rt, params, ema, prog });
  } finally {
    await rt.device.queue.onSubmittedWorkDone();
    rt.freeAll(owned);
  }
  return { rt, params };
}

Deno.test("ema kernel: avg ← d·avg + (1 − d)·p matches the f32 reference (to one rounding) for each decay", async () => {
  const n = 4 * 1000 + 4 * 37; // several workgroups and a partial one
  await withEma(n, async ({ rt, params, ema, prog }) => {
    const p0 = randn(n), want = Float32Array.from(p0);
    rt.device.queue.writeBuffer(params, 0, p0);
    ema.start();
    assert.deepEqual(new Float32Array(await rt.read(ema.avg)), p0, "start copies the parameters");
    for (const d of [0.1, 0.5, 0.9, 0.999, 0.9999]) {
      const p = randn(n, 3);
      rt.device.queue.writeBuffer(params, 0, p);
      ema.writeDecay(d);
      prog.submit(rt.device);
      emaStepF32(want, p, d);
      const got = new Float32Array(await rt.read(ema.avg));
      // products and sum each rounded; a fused multiply-add may differ by one rounding of the sum
      assert.ok(worstRel(got, want) <= 2 ** -22, `d ${d}: rel error ${worstRel(got, want)}`);
      want.set(got);
    }
    ema.load();
    assert.deepEqual(new Float32Array(await rt.read(params)), want, "load copies the average back");
  });
});

Deno.test("ema kernel: 300 warm-up steps stay within 1e-5 of the float64 average; sizes not of vec4 are refused", async () => {
  const n = 4 * 256, steps = 300;
  const { rt, params } = await withEma(n, async ({ rt, params, ema, prog }) => {
    let p = randn(n);
    rt.device.queue.writeBuffer(params, 0, p);
    ema.start();
    const ref64 = Float64Array.from(p), ref32 = Float32Array.from(p);
    for (let s = 0; s < steps; s++) {
      p = Float32Array.from(p, (v) => v + 0.01 * rng.normal()); // a slowly drifting "training" trajectory
      rt.device.queue.writeBuffer(params, 0, p);
      const d = emaDecay(0.999, s);
      ema.writeDecay(d);
      prog.submit(rt.device);
      emaStepF32(ref32, p, d);
      for (let i = 0; i < n; i++) ref64[i] = d * ref64[i] + (1 - d) * p[i];
    }
    const got = new Float32Array(await rt.read(ema.avg));
    let worst32 = 0, worst64 = 0;
    for (let i = 0; i < n; i++) {
      worst32 = Math.max(worst32, Math.abs(got[i] - ref32[i]));
      worst64 = Math.max(worst64, Math.abs(got[i] - ref64[i]));
    }
    assert.ok(worst32 <= 1e-6, `against the f32 reference: ${worst32}`);
    assert.ok(worst64 <= 1e-5, `against the float64 average: ${worst64}`);
    assert.ok(worst64 > 0, "an f32 average cannot equal the float64 one exactly");
  });
  assert.throws(() => new Ema(rt, { params, floats: 10 }), /not a multiple of 4/);
  assert.throws(() => emaUpdate(2.5), /vec4 words/);
  assert.equal(emaDecay(0.999, 0), 0.1);
  assert.equal(emaDecay(0.5, 100), 0.5);
});
