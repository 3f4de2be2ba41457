/**
 * The DiT end to end on the GPU: `deno task train --family dit` (JSON, checkpoint in DiT terms, one-line errors,
 * --help), and the EMA checkpoint: what `eval`/`sample` load is the averaged model whose loss the trainer
 * reports; the loop without per-step awaits against a step-by-step one (curve, weights, EMA). (Sample quality
 * after 400 steps: tests/dit_samples_test.ts.)
 */
import assert from "node:assert/strict";
import { resolveDitConfig } from "../lib/models/dit/config.ts";
import { type DitTrainConfig, LOSS_BLOCK, trainDit } from "../lib/models/dit/train.ts";
import { evalLoss, mnistValidationInputs } from "../lib/models/dit/evaluate.ts";
import { loadDitModel, writeEvalInputs } from "../lib/models/dit/checkpoint.ts";
import { initDitParams } from "../lib/models/dit/config.ts";
import { qSample, trainingDraw } from "../lib/models/dit/diffusion.ts";
import { modelPredictor } from "../lib/models/dit/gpu_predictor.ts";
import { GpuDit } from "../lib/models/dit/model.ts";
import { emaDecay, emaStepF32 } from "../lib/layers/ema.ts";
import { adamScalars, stepSeed } from "../lib/engine/schedule.ts";
import { sharedRuntime } from "../lib/gpu/runtime.ts";
import { loadMnist, MNIST_PIXELS, MnistBatches } from "../lib/data/mnist.ts";
import { resolveRecipe } from "../lib/schemes/resolve.ts";
import { train } from "../lib/engine/train.ts";

const cli = (args: string[]) =>
  new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/train.ts", ...args],
    stderr: "piped",
    stdout: "piped",
  })
    .output();

Deno.test("CLI: train --family dit prints finalValLoss as JSON; bad input is one line with exit code 2", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const ok = await cli([
      "--family=dit",
      "--depth=1",
      "--width=32",
      "--heads=2",
      "--patch=4",
      "--data=mnist",
      "--steps=2",
      "--batch=32",
      "--eval-images=16",
      "--scheme=quartet",
      `--out=${dir}`,
      "--json",
    ]);
    assert.ok(ok.success, new TextDecoder().decode(ok.stderr));
    const j = JSON.parse(new TextDecoder().decode(ok.stdout).trim().split("\n").at(-1)!);
    assert.ok(Number.isFinite(j.finalValLoss) && j.finalValLoss > 0, `finalValLoss ${j.finalValLoss}`);
    assert.equal(j.config.scheme.fwd, "quest");
    const cj = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`));
    assert.equal(cj.hidden_size, 32);
    assert.equal(cj.patch_size, 4);
    for (
      const bad of [["--family=dit", "--steps=2", "--batch=12"], ["--family=dit", "--steps=2", "--data=sotu"]]
    ) {
      const r = await cli(bad);
      assert.equal(r.code, 2);
      const err = new TextDecoder().decode(r.stderr).trim().split("\n").filter((l) =>
        !l.includes("XDG_RUNTIME_DIR")
      );
      assert.equal(err.length, 1, err.join("\n"));
      assert.match(err[0], /^train: /);
    }
    const help = await cli(["--family=dit", "--help"]);
    assert.equal(help.code, 0);
    assert.match(new TextDecoder().decode(help.stdout), /--family dit/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("DiT EMA: the checkpoint holds the averaged weights; deno task eval on the validation tuples gives finalValLoss", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const model = resolveDitConfig({ depth: 1, hidden: 32, heads: 2, patch: 4 });
    const c = {
      model,
      batch: 8,
      steps: 8,
      lr: 3e-3,
      seed: 1,
      scheme: { fwd: "fp32", bwd: "fp32" },
      evalImages: 16,
    };
    const r = await trainDit({ ...c, ema: 0.9, weightDecay: 0 }, { outDir: `${dir}/ck` });
    assert.ok(
      r.rawValLoss !== undefined && Math.abs(r.rawValLoss - r.finalValLoss) > 1e-4,
      `${r.rawValLoss}`,
    );
    writeEvalInputs(`${dir}/inputs.safetensors`, mnistValidationInputs(16));
    const ev = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "cli/eval.ts",
        "--checkpoint",
        `${dir}/ck`,
        "--inputs",
        `${dir}/inputs.safetensors`,
        "--json",
      ],
      stderr: "piped",
    }).output();
    assert.ok(ev.success, new TextDecoder().decode(ev.stderr));
    const j = JSON.parse(new TextDecoder().decode(ev.stdout));
    assert.ok(Math.abs(j.loss - r.finalValLoss) < 1e-6, `eval ${j.loss} vs trainer ${r.finalValLoss}`);
    const cj = JSON.parse(Deno.readTextFileSync(`${dir}/ck/config.json`));
    assert.equal(cj.fp4lab.train.ema, 0.9);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** The trainer's loop as it was before losses were read in blocks: one await per step for the loss, the
 * parameters read back every step into an f32 EMA (emaStepF32, the GPU kernel's reference). */
async function stepByStep(c: DitTrainConfig, ema: number) {
  const { rt } = await sharedRuntime();
  const batches = new MnistBatches(loadMnist().train, c.batch, c.seed);
  const model = GpuDit.create(rt, c.model, {
    batch: c.batch,
    recipe: resolveRecipe(c.scheme),
    weightDecay: c.weightDecay,
  });
  try {
    const init = initDitParams(c.model, c.seed), avg = Float32Array.from(init), curve: number[] = [];
    model.setParams(init);
    for (let s = 0; s < c.steps; s++) {
      const b = batches.at(s);
      const d = trainingDraw(c.seed, s, b.labels, MNIST_PIXELS, c.model.numClasses);
      model.writeInputs({ x: qSample(b.images, d.t, d.noise), t: d.t, y: d.y, target: d.noise });
      const [lr, stepSize, sqrtBc2] = adamScalars(s, c.steps, c.lr);
      model.writeStep(lr, stepSize, sqrtBc2, stepSeed(c.seed, s));
      model.trainProgram.submit(rt.device);
      curve.push((await model.readFloats(model.scalars, 4))[0]);
      emaStepF32(avg, await model.readFloats(model.params), emaDecay(ema, s));
    }
    const params = await model.readFloats(model.params);
    const valLoss = await evalLoss(modelPredictor(model), mnistValidationInputs(c.evalImages));
    return { curve, params, avg, valLoss };
  } finally {
    await rt.device.queue.onSubmittedWorkDone();
    model.destroy();
  }
}

Deno.test("DiT loop without per-step awaits: curve, weights and val loss bit-identical to a step-by-step loop; the GPU EMA is its f32 average", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const c: DitTrainConfig = {
      model: resolveDitConfig({ depth: 1, hidden: 32, heads: 2, patch: 4 }),
      batch: 8,
      steps: 2 * LOSS_BLOCK + 5, // two full blocks (both read-back buffers reused) and a partial one
      lr: 3e-3,
      seed: 2,
      scheme: { fwd: "fp32", bwd: "fp32" },
      evalImages: 16,
      weightDecay: 0,
    };
    const ref = await stepByStep(c, 0.99);
    const seen: [number, number][] = [];
    const r0 = await trainDit({ ...c, ema: 0 }, { outDir: `${dir}/e0`, onStep: (s, l) => seen.push([s, l]) });
    assert.deepEqual(r0.curve, ref.curve);
    assert.deepEqual(seen, ref.curve.map((l, i) => [i + 1, l]), "onStep: every step once, in order");
    assert.deepEqual(loadDitModel(`${dir}/e0`).params, ref.params);
    assert.equal(r0.finalValLoss, ref.valLoss);
    assert.equal(r0.rawValLoss, undefined);

    const r1 = await trainDit({ ...c, ema: 0.99 }, { outDir: `${dir}/e1`, rawOutDir: `${dir}/raw` });
    assert.deepEqual(r1.curve, ref.curve);
    assert.deepEqual(loadDitModel(`${dir}/raw`).params, ref.params, "the EMA leaves training alone");
    assert.equal(r1.rawValLoss, ref.valLoss);
    const avg = loadDitModel(`${dir}/e1`).params;
    let worst = 0;
    for (let i = 0; i < avg.length; i++) {
      worst = Math.max(worst, Math.abs(avg[i] - ref.avg[i]) / (1 + Math.abs(ref.avg[i])));
    }
    assert.ok(worst <= 1e-6, `GPU EMA vs step-by-step f32 EMA: ${worst}`);
    assert.notDeepEqual(avg, ref.params);

    const stop = new AbortController();
    stop.abort();
    await assert.rejects(() => trainDit(c, { signal: stop.signal }), /training aborted/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("DiT through the engine's train(): onProgress reports every step once with a finite rate; an abort from it stops the run", async () => {
  const config = {
    model: resolveDitConfig({ depth: 1, hidden: 32, heads: 2, patch: 4 }),
    batch: 8,
    steps: 6,
    lr: 3e-3,
    seed: 0,
    data: "mnist",
    scheme: { fwd: "fp32", bwd: "fp32" },
    evalEvery: 0,
    evalTokens: 16 * 49,
  };
  const seen: number[] = [];
  const r = await train(config, {
    onProgress: (p) => {
      assert.ok(p.tokensPerSecond > 0 && Number.isFinite(p.tokensPerSecond), `${p.tokensPerSecond}`);
      seen.push(p.step);
    },
  });
  assert.equal(r.status, "finished");
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(r.curve.map((c) => c.step), seen);
  const ctl = new AbortController(), after: number[] = [];
  const run = train(config, {
    signal: ctl.signal,
    onProgress: (p) => {
      after.push(p.step);
      if (p.step === 2) ctl.abort(new Error("loss exploded")); // as the sweep runner does
    },
  });
  await assert.rejects(run, /training aborted/);
  assert.deepEqual(after, [1, 2], "no progress after the abort");
});
