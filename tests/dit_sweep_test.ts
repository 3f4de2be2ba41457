/** DiT ladders in specs: expansion (D = images × patches, family), and the one-line spec errors. */
import assert from "node:assert/strict";
import { parseExperiment } from "../lib/spec/validate.ts";
import { expandExperiment } from "../lib/sweep/expand.ts";
import { InputError } from "../lib/spec/errors.ts";
import { ditParamCounts, resolveDitConfig } from "../lib/models/dit/config.ts";
import { modelDims } from "../lib/models/dims.ts";

const base = {
  name: "dit-t",
  data: "mnist",
  models: [{ name: "s", family: "dit", depth: 1, width: 32, heads: 2, patch: 4 }],
  schemes: ["bf16", "quartet"],
  tokens: { absolute: [94080] },
  optimizer: { lr: { rule: "constant", value: 1e-3 } },
  batch: 32,
  evalTokens: 6272,
};

Deno.test("DiT ladders expand with D = images × patches, the DiT's N, and family dit", async () => {
  const { runs } = await expandExperiment(parseExperiment(base));
  assert.equal(runs.length, 2);
  for (const r of runs) {
    assert.equal(r.config.model.family, "dit");
    assert.equal(r.config.steps, 60); // 94,080 patches / (32 images × 49 patches)
    assert.equal(r.trainTokens, 60 * 32 * 49);
    assert.equal(modelDims(r.config.model).context, 49);
    const n = ditParamCounts(resolveDitConfig({ depth: 1, hidden: 32, heads: 2, patch: 4 })).nonEmbedding;
    assert.equal(r.nonEmbeddingParams, n);
    assert.match(r.id, /-ditL1d32-t94\.1k-s0-[0-9a-f]{8}$/);
  }
});

Deno.test("DiT spec errors: mnist without DiT ladders, DiT fields on a Llama entry, a recipe that cannot run at the batch", async () => {
  const bad = async (raw: unknown, re: RegExp) => {
    await assert.rejects(async () => await expandExperiment(parseExperiment(raw)), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match((e as Error).message, re);
      return true;
    });
  };
  await bad({ ...base, data: "sotu", context: 32 }, /train on data "mnist"/);
  await bad({ ...base, models: [{ layers: 1, dModel: 32 }] }, /train on data "mnist"|context/);
  await bad({ ...base, batch: 16 }, /multiple of 32/);
  assert.throws(
    () => parseExperiment({ ...base, models: [{ family: "dit", depth: 1, width: 32, patch: 4 }] }),
    /depth, width, heads and patch/,
  );
  assert.throws(
    () => parseExperiment({ ...base, models: [{ layers: 1, dModel: 32, patch: 4 }] }),
    /family: "dit"/,
  );
});

Deno.test("DiT target sizes: params resolves to depth/width/heads by the documented rule; N matches the model's count", async () => {
  const spec = {
    ...base,
    models: [{ family: "dit", params: 2e5 }, { name: "big", family: "dit", params: 1e6, patch: 4 }],
    schemes: ["bf16"],
  };
  const { runs } = await expandExperiment(parseExperiment(spec));
  assert.equal(runs.length, 2);
  const want = [[3, 64, 2], [6, 96, 3]]; // aspect width/depth within 2× of 32, closest N in log scale
  runs.forEach((r, i) => {
    const m = r.config.model as ReturnType<typeof resolveDitConfig>;
    const [depth, hidden, heads] = want[i];
    assert.deepEqual([m.depth, m.hidden, m.heads, m.patch], [depth, hidden, heads, 4]);
    assert.equal(
      r.nonEmbeddingParams,
      ditParamCounts(resolveDitConfig({ depth, hidden, heads, patch: 4 })).nonEmbedding,
    );
  });
  assert.throws(
    () => parseExperiment({ ...base, models: [{ family: "dit", params: 2e5, depth: 2 }] }),
    /either params/,
  );
  await assert.rejects(
    async () =>
      await expandExperiment(parseExperiment({ ...base, models: [{ family: "dit", params: 1e12 }] })),
    /within 2× of params/,
  );
});
