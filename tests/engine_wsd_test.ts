/** WSD schedules and branch checkpoints: a branched run is bit-identical to the same run trained alone. */
import assert from "node:assert/strict";
import { train, validateBranch } from "../lib/engine/train.ts";
import { decayStart, scheduleProblem, wsdLrAt, type WsdSchedule } from "../lib/engine/schedule.ts";
import { resolveModelConfig } from "../lib/models/llama/config.ts";
import type { TrainConfig } from "../lib/engine/api.ts";

const wsd: WsdSchedule = { kind: "wsd", warmup: 4, decay: 0.25, shape: "1-sqrt" };
const base: TrainConfig = {
  model: resolveModelConfig({ layers: 1, dModel: 32, heads: 1, context: 32 }),
  batch: 4,
  steps: 16,
  lr: 1e-2,
  seed: 3,
  data: "sotu",
  scheme: { fwd: "fp32", bwd: "fp32" },
  evalEvery: 6,
  evalTokens: 512,
  schedule: wsd,
};

Deno.test("wsd: warmup from peak/100, flat, then linear or 1-sqrt decay over the last fraction", () => {
  assert.equal(wsdLrAt(wsd, 0, 100, 1), 0.01);
  assert.equal(wsdLrAt(wsd, 2, 100, 1), 0.01 + 0.99 * 0.5);
  assert.equal(wsdLrAt(wsd, 4, 100, 1), 1);
  assert.equal(decayStart(wsd, 100), 75);
  assert.equal(wsdLrAt(wsd, 74, 100, 1), 1);
  assert.equal(wsdLrAt(wsd, 75, 100, 1), 1);
  assert.equal(wsdLrAt(wsd, 99, 100, 1), 1 - Math.sqrt(24 / 25));
  assert.equal(wsdLrAt({ ...wsd, shape: "linear" }, 87, 100, 1), 1 - 12 / 25);
  // the stable phase does not depend on the run's length
  for (let s = 0; s < 75; s++) assert.equal(wsdLrAt(wsd, s, 100, 1), wsdLrAt(wsd, s, 1000, 1));
  // decay never begins before the warmup ends, and always has a step
  assert.equal(decayStart({ ...wsd, warmup: 90 }, 100), 90);
  assert.equal(decayStart({ ...wsd, decay: 0.001 }, 100), 99);
  assert.match(scheduleProblem({ ...wsd, decay: 0 })!, /decay must be in/);
  assert.match(scheduleProblem({ ...wsd, warmup: 1.5 })!, /warmup must be an integer/);
});

Deno.test("wsd: branch checks refuse other configs, cosine runs and late branch points", () => {
  const short = { ...base, steps: 12 };
  validateBranch(base, short, decayStart(wsd, 12));
  assert.throws(() => validateBranch(base, { ...short, seed: 4 }, 9), /differ only in steps/);
  assert.throws(() => validateBranch(base, short, 10), /past a decay start/);
  const { schedule: _, ...cosine } = base;
  assert.throws(() => validateBranch(cosine, { ...cosine, steps: 12 }, 9), /only WSD/);
});

Deno.test("wsd: a run resumed from a longer run's branch checkpoint is bit-identical to it trained alone", async () => {
  const short: TrainConfig = { ...base, steps: 12 }; // decay starts at step 9; evals at 6 (shared) and 12
  const alone = await train(short);
  const dir = await Deno.makeTempDir();
  try {
    const step = decayStart(wsd, short.steps);
    let claimed = 0, released = 0;
    const trunk = await train(base, {
      branches: [{
        step,
        config: short,
        outDir: dir,
        claim: () => (claimed++, () => released++),
      }],
    });
    assert.deepEqual([claimed, released], [1, 1]);
    const st = JSON.parse(Deno.readTextFileSync(`${dir}/trainer_state.json`));
    assert.equal(st.step, step);
    // the trunk's curve up to the branch point is the short run's
    assert.deepEqual(trunk.curve.filter((c) => c.step <= step), alone.curve.filter((c) => c.step <= step));
    const branched = await train(short, { outDir: dir, resume: true });
    assert.deepEqual(branched.curve, alone.curve);
    assert.equal(branched.finalValLoss, alone.finalValLoss);
    assert.equal(branched.finalTrainLoss, alone.finalTrainLoss);
    // the decay made a difference: the trunk at step 12 is elsewhere
    assert.notEqual(trunk.curve.find((c) => c.step === 12)!.valLoss, alone.finalValLoss);
    // a claim that returns null skips the branch
    const dir2 = await Deno.makeTempDir();
    await train({ ...base, steps: 14 }, {
      branches: [{ step, config: short, outDir: dir2, claim: () => null }],
    });
    assert.throws(() => Deno.statSync(`${dir2}/trainer_state.json`), Deno.errors.NotFound);
    Deno.removeSync(dir2, { recursive: true });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
