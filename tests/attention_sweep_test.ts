import assert from "node:assert/strict";
import { parseExperiment } from "../lib/spec/validate.ts";
import { expandExperiment } from "../lib/sweep/expand.ts";
import { InputError } from "../lib/spec/errors.ts";
import { parseTable, toRuns } from "../lib/fit/data.ts";

const base = {
  name: "att",
  data: "sotu",
  models: [{ layers: 1, dModel: 32 }, { layers: 2, dModel: 64 }],
  schemes: ["fp32", "bf16"],
  tokens: { absolute: [10240] },
  optimizer: { lr: { rule: "inverse-params", base: 3e-3, baseParams: 1e5 } },
  batch: 4,
  context: 32,
  evalTokens: 128,
};

Deno.test("attention crosses schemes; f32-attention run ids are unchanged", async () => {
  const plain = (await expandExperiment(parseExperiment(base))).runs;
  const crossed = (await expandExperiment(parseExperiment({ ...base, attention: ["fp32", "sagebwd"] }))).runs;
  assert.equal(crossed.length, 2 * plain.length);
  const f32 = crossed.filter((r) => r.attention === "fp32");
  assert.deepEqual(f32.map((r) => r.id).sort(), plain.map((r) => r.id).sort());
  for (const r of f32) assert.equal(r.config.attention, undefined);
  const sb = crossed.filter((r) => r.attention === "sagebwd");
  for (const r of sb) {
    assert.equal(r.config.attention, "sagebwd");
    assert.match(r.id, /^(fp32|bf16)_attn-sagebwd-L/);
  }
});

Deno.test("attention names are checked before any work: unknown and inference-only recipes", async () => {
  await assert.rejects(
    () => expandExperiment(parseExperiment({ ...base, attention: ["sagebwdx"] })),
    InputError,
  );
  await assert.rejects(
    () => expandExperiment(parseExperiment({ ...base, attention: ["sage3"] })),
    (e: Error) => e instanceof InputError && /inference-only/.test(e.message),
  );
});

Deno.test("a runs.csv written before the attention column (the reference without it) still reads", async () => {
  const path = new URL("../results/reference/quartet-tiny/runs.csv", import.meta.url);
  const lines = (await Deno.readTextFile(path)).trim().split("\n");
  assert.ok(lines[0].endsWith(",attention") && lines.slice(1).every((l) => l.endsWith(",fp32")));
  const t = parseTable(lines.map((l) => l.replace(/,(attention|fp32)$/, "")).join("\n") + "\n");
  assert.ok(!t.columns.includes("attention"));
  assert.ok(t.rows.length > 0 && t.rows.every((r) => r.run_id && !r.run_id.includes("_attn-")));
  const runs = toRuns(t, "quartet");
  assert.equal(runs.length, lines.length - 1);
  assert.ok(runs.every((r) => !r.fwd.includes("@") && !r.bwd.includes("@")));
});

Deno.test("fit input: a quantized attention recipe is a precision of its own; fp32 and empty cells are not", () => {
  const t = parseTable(
    "run_id,status,non_embedding_params,tokens,final_val_loss,fwd,bwd,attention\n" +
      "a,finished,1000,2000,3,bf16,bf16,fp32\nb,finished,1000,2000,3,bf16,bf16,sagebwd\nc,finished,1000,2000,3,bf16,bf16,\n",
  );
  const runs = toRuns(t, "chinchilla");
  assert.deepEqual(runs.map((r) => `${r.fwd}/${r.bwd}`), [
    "bf16/bf16",
    "bf16@sagebwd/bf16@sagebwd",
    "bf16/bf16",
  ]);
});
