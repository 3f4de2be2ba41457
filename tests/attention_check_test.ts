import assert from "node:assert/strict";
import { saveCheckpoint } from "../lib/engine/checkpoint.ts";
import { initParams, resolveModelConfig } from "../lib/models/llama/config.ts";

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/attention_check.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("attention-check: per-recipe, per-layer figures of a checkpoint's real Q, K, V, dO (JSON shape)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cfg = resolveModelConfig({ layers: 2, dModel: 64, heads: 2, context: 32 });
    saveCheckpoint(dir, cfg, initParams(cfg, 1), null, null, { fwd: "fp32", bwd: "fp32" });
    const text = `${dir}/t.txt`;
    Deno.writeTextFileSync(
      text,
      "It was the best of times, it was the worst of times, it was the age of wisdom.",
    );
    const r = await run(["--checkpoint", dir, "--text", text, "--recipes", "fp32,sage3,sagebwd", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j.recipes), ["fp32", "sage3", "sagebwd"]);
    for (const [name, x] of Object.entries(j.recipes) as [string, Record<string, unknown>][]) {
      const layers = x.layers as { layer: number; cosSim: number; relL2: number }[];
      assert.equal(layers.length, 2);
      const m = (layers[0].cosSim + layers[1].cosSim) / 2;
      assert.ok(Math.abs((x.cosSim as number) - m) < 1e-12, `${name}: top level is the mean over layers`);
      assert.equal("dq" in x, name !== "sage3");
    }
    assert.ok(j.recipes.fp32.relL2 < 1e-5 && j.recipes.fp32.dq.relL2 < 1e-4);
    assert.ok(j.recipes.sage3.relL2 > 1e-3 && j.recipes.sagebwd.relL2 > 1e-4);
    const bad = await run(["--checkpoint", dir, "--text", text, "--recipes", "sage9"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^attention-check: unknown attention recipe "sage9"; did you mean/);
    assert.equal((await run(["--help"])).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train/eval --attention and --init-from: bad input is one line and exit 2 before any work", async () => {
  const cli = async (args: string[]) => {
    const o = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", ...args],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const lines = new TextDecoder().decode(o.stderr).trim().split("\n").filter((l) =>
      !/XDG_RUNTIME_DIR/.test(l)
    );
    return { code: o.code, lines };
  };
  for (
    const [args, msg] of [
      [["cli/train.ts", "--attention", "sage3", "--steps", "1"], /inference-only/],
      [["cli/train.ts", "--attention", "sagebwdd", "--steps", "1"], /did you mean "sagebwd"/],
      [["cli/train.ts", "--init-from", "/nonexistent/ck", "--steps", "1"], /config\.json not found/],
      [
        ["cli/eval.ts", "--checkpoint", "/nonexistent/ck", "--text", "README.md", "--attention", "x"],
        /unknown attention/,
      ],
    ] as [string[], RegExp][]
  ) {
    const r = await cli(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.lines.length, 1, r.lines.join("\n"));
    assert.match(r.lines[0], msg);
  }
});
