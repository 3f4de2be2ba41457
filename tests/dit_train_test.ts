/**
 * The DiT end to end on the GPU: `deno task train --family dit` (JSON, checkpoint in DiT terms, one-line errors,
 * --help), and the EMA checkpoint: what `eval`/`sample` load is the averaged model whose loss the trainer
 * reports. (Sample quality after 400 steps: tests/dit_samples_test.ts.)
 */
import assert from "node:assert/strict";
import { resolveDitConfig } from "../lib/models/dit/config.ts";
import { trainDit } from "../lib/models/dit/train.ts";
import { mnistValidationInputs } from "../lib/models/dit/evaluate.ts";
import { writeEvalInputs } from "../lib/models/dit/checkpoint.ts";

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
