import assert from "node:assert/strict";
import { ditLayout, initDitParams, resolveDitConfig } from "../lib/models/dit/config.ts";
import { loadDitModel, saveDitModel, writeEvalInputs } from "../lib/models/dit/checkpoint.ts";
import { ditForward } from "../lib/models/dit/reference.ts";
import { evalCheckpointOnInputs, mnistValidationInputs } from "../lib/models/dit/evaluate.ts";
import { Rng } from "../lib/engine/rng.ts";
import { ditLinearLayers } from "../lib/ptq/dit_layers.ts";
import { ditCalibrationInput } from "../lib/ptq/dit_calib.ts";
import { preparePtq, runPtq } from "../lib/ptq/run.ts";
import { readPtqConfig, readScales } from "../lib/ptq/checkpoint.ts";
import { quantizedDitPredictor } from "../lib/ptq/dit_eval.ts";
import { gridOf, quantScaled } from "../lib/ptq/grid.ts";
import { RECIPES } from "../lib/ptq/recipes.ts";
import { ResultsDir } from "../lib/results/store.ts";
import type { Experiment } from "../lib/spec/schema.ts";
import { readPtqCsv, runPtqStage } from "../lib/sweep/ptq_stage.ts";

// A small DiT: the reference init with every tensor perturbed (seeded), so that the adaLN-Zero gates and the
// zero-initialised final layer are not zero and every linear shapes the output.
const cfg = resolveDitConfig({ hidden: 32, depth: 1, heads: 2, patch: 4, mlpRatio: 2 });

function params(): Float32Array {
  const p = initDitParams(cfg, 5), rng = new Rng(5, 0x7e57);
  for (const t of ditLayout(cfg).tensors) {
    if (t.name === "pos_embed") continue;
    for (let i = t.offset; i < t.offset + t.size; i++) p[i] += 0.05 * rng.normal();
  }
  return p;
}

function floatCheckpoint(): string {
  const dir = Deno.makeTempDirSync();
  saveDitModel(dir, cfg, params(), { scheme: { fwd: "fp32", bwd: "fp32" }, train: { evalImages: 16 } });
  return dir;
}

Deno.test("ditForward's linear input hook: every linear per image, in forward order; it can replace the input", () => {
  const p = params(), inp = ditCalibrationInput(cfg, 8, 1);
  const a = ditForward(cfg, p, inp), calls = new Map<string, number>();
  const b = ditForward(cfg, p, inp, (name, X, rows, inF) => {
    assert.equal(X.length, rows * inF, name);
    calls.set(name, (calls.get(name) ?? 0) + 1);
    return X;
  });
  assert.deepEqual(b, a); // an identity hook leaves the forward bit-identical
  assert.deepEqual([...calls.keys()], ditLinearLayers(cfg, "all").map((l) => l.name));
  for (const [name, n] of calls) assert.equal(n, inp.batch, name);
  // the product reads what the hook returns: a zero input to the final linear leaves its bias in every patch
  const zero = ditForward(
    cfg,
    p,
    inp,
    (name, X) => name === "final_layer.linear.weight" ? new Float64Array(X.length) : X,
  );
  const t = ditLayout(cfg).byName.get("final_layer.linear.bias")!, S = cfg.inputSize, q = cfg.patch;
  for (let i = 0; i < zero.length; i++) {
    const row = Math.floor(i / S) % S, col = i % S; // one channel: ε̂ [B, 1, S, S]
    assert.equal(zero[i], p[t.offset + (row % q) * q + (col % q)]);
  }
  // calibration labels: every tenth is the null class
  assert.equal(ditCalibrationInput(cfg, 10, 0).y[9], cfg.numClasses);
});

function nearGrid(format: string, u: number): boolean {
  const q = quantScaled(gridOf(format), u, 1);
  return Math.abs(u - q) <= 1e-6 * Math.max(1, Math.abs(q));
}

Deno.test("every recipe quantizes a DiT: weights on grid × scale, eval and the quantized predictor agree", async () => {
  const src = floatCheckpoint();
  const inputs = `${Deno.makeTempDirSync()}/val.safetensors`;
  writeEvalInputs(inputs, mnistValidationInputs(16));
  const lay = ditLayout(cfg), float = loadDitModel(src).params;
  for (const recipe of RECIPES) {
    const out = Deno.makeTempDirSync();
    const r = runPtq({ checkpoint: src, recipe: recipe.name, out, calib: 8, iters: 3 });
    assert.ok(Number.isFinite(r.delta) && r.lossAfter > 0, recipe.name);
    const ptq = readPtqConfig(out)!;
    assert.equal(ptq.recipe, recipe.name);
    const scales = readScales(out);
    const { params: q } = loadDitModel(out);
    const names = ditLinearLayers(cfg, recipe.ditScope).map((l) => l.name);
    assert.deepEqual(Object.keys(ptq.weights).sort(), [...names].sort(), recipe.name);
    for (const [name, meta] of Object.entries(ptq.weights)) {
      const t = lay.byName.get(name)!;
      const w = q.subarray(t.offset, t.offset + t.size);
      const rows = t.shape[0], cols = t.size / rows; // x_embedder is stored as a conv [h, C, p, p]
      const s = scales.get(`${name}.scales`)!.data, col = scales.get(`${name}.col_scale`)?.data;
      const G = s.length / rows;
      for (let j = 0; j < rows; j++) {
        for (let k = 0; k < cols; k++) {
          const sc = s[j * G + Math.floor(k / meta.groupLen)] * (col ? col[k] : 1);
          const u = sc === 0 ? 0 : w[j * cols + k] / sc;
          assert.ok(
            nearGrid(meta.format, u),
            `${recipe.name} ${name}[${j},${k}] = ${w[j * cols + k]} / ${sc}`,
          );
        }
      }
    }
    // tensors outside the recipe's scope (biases, embedders, …) are the float ones
    for (const t of lay.tensors) {
      if (ptq.weights[t.name]) continue;
      assert.deepEqual(q.subarray(t.offset, t.offset + t.size), float.subarray(t.offset, t.offset + t.size));
    }
    // deno task eval --inputs reads the quantized checkpoint with its activation quantizers: same loss
    const e = await evalCheckpointOnInputs(out, inputs, (c, p) => quantizedDitPredictor(c, p, ptq));
    assert.ok(Math.abs(e.loss - r.lossAfter) < 1e-12, `${recipe.name}: eval ${e.loss} vs ptq ${r.lossAfter}`);
  }
});

Deno.test("DiT ptq refuses a wrong family and too few calibration images in one line (exit 2)", async () => {
  const src = floatCheckpoint(), out = Deno.makeTempDirSync();
  assert.throws(
    () => preparePtq({ checkpoint: src, recipe: "hqdit", calib: 4, out }),
    /too few calibration samples: --calib 4 \(need at least 8 images on a DiT\)/,
  );
  const other = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${other}/config.json`, JSON.stringify({ model_type: "gpt2" }));
  assert.throws(() => preparePtq({ checkpoint: other, recipe: "fpq", out }), /is a gpt2 checkpoint/);
  for (
    const [ck, extra, want] of [[src, ["--calib", "3"], /^ptq: too few calibration samples/], [
      other,
      [],
      /^ptq: checkpoint .* is a gpt2 checkpoint; ptq runs on llama and dit checkpoints$/,
    ]] as const
  ) {
    const p = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli/ptq.ts", "--checkpoint", ck, "--recipe", "fp4dit", "--out", out, ...extra],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(p.stderr).trim();
    assert.equal(p.code, 2, err);
    assert.equal(err.split("\n").length, 1, err);
    assert.match(err, want);
  }
  assert.equal([...Deno.readDirSync(out)].length, 0);
});

Deno.test("the sweep's PTQ stage runs on a finished DiT run's checkpoint", async () => {
  const root = Deno.makeTempDirSync();
  const dir = ResultsDir.of(root, "exp"), id = "dit-run";
  saveDitModel(dir.ckptDir(id), cfg, params(), { train: { evalImages: 16 } });
  Deno.writeTextFileSync(
    dir.recordPath(id),
    JSON.stringify({ row: { status: "finished", non_embedding_params: 1234, tokens: 5678 } }),
  );
  const spec = {
    data: "mnist",
    ptq: ["minmax-nvfp4:w4a8"],
    ptqOptions: { calib: 8 },
  } as unknown as Experiment;
  assert.equal(await runPtqStage(dir, spec, [id]), 1);
  const [row] = await readPtqCsv(`${root}/exp/ptq.csv`);
  assert.deepEqual([row.recipe, row.a_bits, row.params, row.tokens], ["minmax-nvfp4", "8", "1234", "5678"]);
  assert.equal(readPtqConfig(`${dir.runDir(id)}/ptq/minmax-nvfp4-w4a8`)?.evalImages, 16);
});
