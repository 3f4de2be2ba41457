/**
 * The DiT end to end on the GPU: `deno task train --family dit` (JSON, checkpoint in DiT terms, one-line errors,
 * --help). (The "samples of a DiT trained for a few hundred steps are classified above chance" is not
 * here: a 300-step width-32 DiT reached 1-NN accuracy 0.14, not a margin a test can rely on.)
 */
import assert from "node:assert/strict";

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
