import assert from "node:assert/strict";
import { parseExperiment } from "../lib/spec/validate.ts";
import { InputError } from "../lib/spec/errors.ts";
import { resolveSchemes } from "../lib/spec/schemes.ts";
import { closestNames } from "../lib/spec/suggest.ts";
import { loadSpec } from "../lib/spec/load.ts";
import { specJsonSchema } from "../lib/spec/schema.ts";

const good = {
  name: "t",
  data: "sotu",
  models: [{ layers: 1, dModel: 32 }, { params: 20000 }],
  schemes: ["fp32", { fwd: "bf16", bwd: "fp32" }],
  tokens: { perParam: [1, 2] },
  optimizer: { lr: { rule: "inverse-params", base: 3e-3, baseParams: 1e4 } },
  batch: 2,
  context: 32,
  evalTokens: 64,
};

function errorText(raw: unknown): string {
  try {
    parseExperiment(raw);
  } catch (e) {
    assert.ok(e instanceof InputError);
    assert.equal(e.exitCode, 2);
    return e.message;
  }
  assert.fail("expected an InputError");
}

Deno.test("a valid spec parses and gets defaults", () => {
  const s = parseExperiment(good);
  assert.deepEqual(s.seeds, [0]);
  assert.equal(s.evalEvery, 0);
  assert.equal(s.cost.model, "bops");
});

Deno.test("spec errors list every problem with its path", () => {
  const text = errorText({
    ...good,
    name: "Bad Name",
    extra: 1,
    models: [{ layers: 2 }, { layers: 1, dModel: 48 }, { layers: 1, dModel: 64, heads: 3 }],
    schemes: ["fp32", { fwd: "bf16" }, 7],
    tokens: {},
    optimizer: { lr: { rule: "cosine" } },
    batch: 0,
  });
  for (
    const path of [
      "at name",
      "at models[0]",
      "at models[1].dModel",
      "at models[2].heads",
      "at schemes[1].bwd",
      "at schemes[2]",
      "at tokens",
      "at optimizer.lr.rule",
      "at batch",
    ]
  ) assert.ok(text.includes(`→ ${path}\n`) || text.endsWith(`→ ${path}`), `missing "${path}" in:\n${text}`);
  assert.match(text, /unrecognized key "extra"\n {2}→ at extra/);
});

Deno.test("unknown schemes suggest the closest names", () => {
  const labels = { fwd: ["fp32", "bf16", "quartet", "mxfp4-rtn"], bwd: ["fp32", "bf16", "quartet-sr"] };
  assert.throws(
    () => resolveSchemes(["bf61", { fwd: "quartett", bwd: "quartet" }], labels),
    (e: Error) => {
      assert.match(e.message, /unknown scheme "bf61"; did you mean "bf16"/);
      assert.match(e.message, /→ at schemes\[0\]/);
      assert.match(e.message, /unknown forward scheme "quartett"; did you mean "quartet"/);
      assert.match(e.message, /unknown backward scheme "quartet"; did you mean "quartet-sr"/);
      assert.match(e.message, /→ at schemes\[1\]\.bwd/);
      return true;
    },
  );
  assert.deepEqual(closestNames("mxfp", ["mxfp4-rtn", "fp32", "nvfp4"]).slice(0, 1), ["mxfp4-rtn"]);
});

Deno.test("scheme names resolve through the catalogue's presets, with element bits", () => {
  const [quartet, quest, fp32, bf16, pair] = resolveSchemes([
    "quartet",
    "quest",
    "fp32",
    "bf16",
    { fwd: "rtn-mxfp4", bwd: "e5m2-grad" },
  ]);
  assert.deepEqual(quartet, { name: "quartet", fwd: "quest", bwd: "rtn-bwd", fwdBits: 4, bwdBits: 4 });
  assert.deepEqual([quest.fwd, quest.bwd, quest.fwdBits, quest.bwdBits], ["quest", "bf16", 4, 16]);
  assert.deepEqual([fp32.fwdBits, fp32.bwdBits, bf16.fwdBits, bf16.bwdBits], [32, 32, 16, 16]);
  assert.deepEqual([pair.name, pair.fwdBits, pair.bwdBits], ["rtn-mxfp4+e5m2-grad", 4, 8]);
  assert.throws(() => resolveSchemes(["quartett"]), /unknown scheme "quartett"; did you mean "quartet"/);
});

Deno.test("loadSpec reads JSON and TypeScript specs; a missing file is an input error", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/a.json`, JSON.stringify(good));
  assert.equal((await loadSpec(`${dir}/a.json`)).spec.name, "t");
  const define = new URL("../lib/spec/schema.ts", import.meta.url).href;
  await Deno.writeTextFile(
    `${dir}/b.ts`,
    `import { defineExperiment } from "${define}";\nexport default defineExperiment(${
      JSON.stringify(good)
    });\n`,
  );
  assert.equal((await loadSpec(`${dir}/b.ts`)).spec.data, "sotu");
  await assert.rejects(loadSpec(`${dir}/missing.json`), InputError);
  await Deno.writeTextFile(`${dir}/c.json`, JSON.stringify({ ...good, batch: "x" }));
  await assert.rejects(loadSpec(`${dir}/c.json`), /→ at batch/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the JSON Schema is in sync with experiments/spec.schema.json", async () => {
  const file = new URL("../experiments/spec.schema.json", import.meta.url);
  const onDisk = JSON.parse(await Deno.readTextFile(file));
  assert.deepEqual(onDisk, specJsonSchema(), "run: deno task spec-schema");
});
