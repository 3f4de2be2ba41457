import assert from "node:assert/strict";
import { parseExperiment } from "../lib/spec/validate.ts";
import { expandExperiment } from "../lib/sweep/expand.ts";
import { assignShards, parseShard, selectShard } from "../lib/sweep/shard.ts";
import { parseOnly } from "../lib/sweep/filter.ts";
import { InputError } from "../lib/spec/errors.ts";

const base = {
  name: "ids",
  data: "sotu",
  models: [{ layers: 1, dModel: 32 }, { layers: 2, dModel: 64 }, { name: "big", params: 3e5 }],
  schemes: ["fp32", "bf16"],
  tokens: { perParam: [2, 4], absolute: [10240] },
  seeds: [0, 1],
  optimizer: { lr: { rule: "inverse-params", base: 3e-3, baseParams: 1e5 } },
  batch: 4,
  context: 32,
  evalTokens: 128,
};

const ids = async (raw: unknown) => (await expandExperiment(parseExperiment(raw))).runs.map((r) => r.id);

Deno.test("expansion is the cartesian product, with 6·N·D FLOPs", async () => {
  const { runs } = await expandExperiment(parseExperiment(base));
  assert.equal(runs.length, 2 * 3 * 3 * 2);
  for (const r of runs) {
    assert.equal(r.trainTokens, r.config.steps * 4 * 32);
    assert.equal(r.flops, 6 * r.nonEmbeddingParams * r.trainTokens);
    assert.match(r.id, /^[a-z0-9.+_-]+-L\d+d\d+-t[\d.]+[kMG]?-s\d-[0-9a-f]{8}$/);
  }
  assert.equal(new Set(runs.map((r) => r.id)).size, runs.length);
});

Deno.test("run ids are stable under reordering, renaming and extension", async () => {
  const a = await ids(base);
  const reordered = await ids({
    ...base,
    models: [...base.models].reverse().map((m) => ({ ...m, name: undefined })),
    schemes: ["bf16", "fp32"],
    tokens: { absolute: [10240], perParam: [4, 2] },
    seeds: [1, 0],
  });
  assert.deepEqual([...reordered].sort(), [...a].sort());
  const extended = await ids({ ...base, seeds: [0, 1, 2], tokens: { ...base.tokens, perParam: [2, 4, 8] } });
  for (const id of a) assert.ok(extended.includes(id), id);
  // A change of the resolved config (here the learning-rate rule) is a different run.
  const changed = await ids({ ...base, optimizer: { lr: { rule: "constant", value: 1e-3 } } });
  assert.equal(changed.filter((id) => a.includes(id)).length, 0);
});

Deno.test("include/exclude filters and duplicate grid points", async () => {
  const r = await expandExperiment(parseExperiment({
    ...base,
    include: [{ scheme: "bf16" }, { model: "big", seed: 0 }],
    exclude: [{ tokensPerParam: 4 }],
  }));
  assert.ok(
    r.runs.every((x) =>
      (x.scheme === "bf16" || (x.model === "big" && x.seed === 0)) && x.tokensPerParam !== 4
    ),
  );
  assert.equal(r.runs.length, 3 * 2 * 2 + 2 * 1);
  const dup = await expandExperiment(
    parseExperiment({
      ...base,
      models: [{ layers: 1, dModel: 32 }, { name: "same", layers: 1, dModel: 32 }],
    }),
  );
  assert.equal(dup.duplicates.length, dup.runs.length);
});

Deno.test("shards partition the runs deterministically and completely", async () => {
  const { runs } = await expandExperiment(parseExperiment(base));
  for (const n of [1, 2, 3, 5]) {
    const parts = Array.from(
      { length: n },
      (_, i) => selectShard(runs, { index: i + 1, count: n }).map((r) => r.id),
    );
    const all = parts.flat();
    assert.equal(all.length, runs.length);
    assert.equal(new Set(all).size, runs.length);
    // Same partition whatever the order the runs come in.
    const again = assignShards([...runs].reverse(), n);
    for (let i = 0; i < n; i++) for (const id of parts[i]) assert.equal(again.get(id), i + 1);
  }
  assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
  for (const bad of ["0/2", "3/2", "1", "a/b"]) assert.throws(() => parseShard(bad), InputError);
});

Deno.test("--only filters by key=glob terms", async () => {
  const { runs } = await expandExperiment(parseExperiment(base));
  const f = parseOnly("scheme=bf16,model=L1-*|big,seed=1");
  const kept = runs.filter(f);
  assert.equal(kept.length, 2 * 3);
  assert.ok(kept.every((r) => r.scheme === "bf16" && r.seed === 1 && r.model !== "L2-d64"));
  assert.equal(runs.filter(parseOnly(runs[3].id)).length, 1);
  assert.throws(() => parseOnly("shceme=bf16"), /did you mean "scheme"/);
});
