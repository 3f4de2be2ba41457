/**
 * The DiT end to end on the GPU: `deno task train --family dit` (JSON, one-line errors), and a DiT trained for
 * a few hundred steps whose conditional samples a nearest-neighbour classifier labels far above chance.
 */
import assert from "node:assert/strict";
import { resolveDitConfig } from "../lib/models/dit/config.ts";
import { trainDit } from "../lib/models/dit/train.ts";
import { gpuPredictor } from "../lib/models/dit/gpu_predictor.ts";
import { loadDitModel } from "../lib/models/dit/checkpoint.ts";
import { sampleQualityOf } from "../lib/models/dit/sample.ts";

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

Deno.test("a DiT trained for 300 steps draws digits a 1-NN classifier labels well above chance", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const model = resolveDitConfig({ depth: 1, hidden: 32, heads: 2, patch: 4 });
    const scheme = { fwd: "bf16", bwd: "bf16" };
    const r = await trainDit({ model, batch: 32, steps: 300, lr: 2e-3, seed: 0, scheme, evalImages: 64 }, {
      outDir: dir,
    });
    assert.ok(r.finalValLoss < 0.2, `validation ε-MSE ${r.finalValLoss}`);
    const predict = await gpuPredictor(model, loadDitModel(dir).params, scheme, 128);
    const q = await sampleQualityOf(model, predict, {
      perClass: 5,
      steps: 20,
      cfg: 4,
      seed: 3,
      maxBatch: 128,
    });
    assert.ok(q.accuracy1nn >= 0.3, `1-NN accuracy ${q.accuracy1nn} (chance 0.1)`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
