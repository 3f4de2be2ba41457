import assert from "node:assert/strict";
import { saveCheckpoint } from "../lib/engine/checkpoint.ts";
import { initLayout } from "../lib/models/layout.ts";
import { paramLayout, resolveModelConfig } from "../lib/models/llama/config.ts";
import { ResultsDir } from "../lib/results/store.ts";
import type { Experiment } from "../lib/spec/schema.ts";
import { InputError } from "../lib/spec/errors.ts";
import { ptqJobs, readPtqCsv, runPtqStage } from "../lib/sweep/ptq_stage.ts";

const cfg = resolveModelConfig({ layers: 1, dModel: 32, heads: 2, context: 32 });

Deno.test("the PTQ stage writes ptq.csv, never redoes a finished job and restarts a killed one cleanly", async () => {
  const root = Deno.makeTempDirSync();
  const dir = ResultsDir.of(root, "exp");
  const id = "run-a";
  saveCheckpoint(dir.ckptDir(id), cfg, initLayout(paramLayout(cfg), 1), null, null, {
    fwd: "fp32",
    bwd: "fp32",
  });
  Deno.writeTextFileSync(dir.recordPath(id), JSON.stringify({ row: { status: "finished" } }));
  // a second run that is not finished: skipped
  Deno.mkdirSync(dir.runDir("run-b"), { recursive: true });
  Deno.writeTextFileSync(dir.recordPath("run-b"), JSON.stringify({ row: { status: "diverged" } }));
  const spec = {
    data: "sotu",
    ptq: ["minmax-e2m1", "minmax-int4:w4a8"],
    ptqOptions: { calib: 2, evalTokens: 64 },
  } as unknown as Experiment;
  assert.equal(await runPtqStage(dir, spec, [id, "run-b"]), 2);
  const rows = await readPtqCsv(`${root}/exp/ptq.csv`);
  assert.deepEqual(rows.map((r) => [r.run_id, r.recipe, r.w_bits, r.a_bits]), [
    [id, "minmax-e2m1", "4", "4"],
    [id, "minmax-int4", "4", "8"],
  ]);
  for (const r of rows) {
    assert.ok(Math.abs(Number(r.loss_after) - Number(r.loss_before) - Number(r.delta)) < 1e-12);
  }
  assert.equal(await runPtqStage(dir, spec, [id, "run-b"]), 0, "finished jobs are never redone");
  // a job killed mid-way: no row, a partial directory
  const csv = `${root}/exp/ptq.csv`;
  const lines = Deno.readTextFileSync(csv).trim().split("\n");
  Deno.writeTextFileSync(csv, lines.slice(0, 2).join("\n") + "\n");
  const out = `${dir.runDir(id)}/ptq/minmax-int4-w4a8`;
  Deno.writeTextFileSync(`${out}/model.safetensors`, "torn");
  Deno.writeTextFileSync(`${out}/stray.tmp`, "x");
  assert.equal(await runPtqStage(dir, spec, [id]), 1);
  assert.throws(() => Deno.statSync(`${out}/stray.tmp`));
  assert.equal((await readPtqCsv(csv)).length, 2);
});

Deno.test("the PTQ stage searches fpq on the GPU as deno task ptq does; report.json is its --json output", async () => {
  const root = Deno.makeTempDirSync();
  const dir = ResultsDir.of(root, "exp"), id = "run-a";
  saveCheckpoint(dir.ckptDir(id), cfg, initLayout(paramLayout(cfg), 1), null, null, {
    fwd: "fp32",
    bwd: "fp32",
  });
  Deno.writeTextFileSync(dir.recordPath(id), JSON.stringify({ row: { status: "finished" } }));
  const spec = {
    data: "sotu",
    ptq: ["fpq-baseline:w4a8", "minmax-e2m1"],
    ptqOptions: { calib: 2, evalTokens: 64 },
  } as unknown as Experiment;
  assert.equal(await runPtqStage(dir, spec, [id]), 2);
  const report = (name: string) =>
    JSON.parse(Deno.readTextFileSync(`${dir.runDir(id)}/ptq/${name}/report.json`));
  const fpq = report("fpq-baseline-w4a8"), mm = report("minmax-e2m1-w4a4");
  assert.equal(fpq.search, "gpu");
  assert.ok(fpq.searchStats.gpuRequests > 0, JSON.stringify(fpq.searchStats)); // lm_head: 256 × 100 rows, K 32
  assert.equal(mm.search, "cpu");
  assert.equal(mm.searchStats, undefined);
  const rows = await readPtqCsv(`${root}/exp/ptq.csv`);
  assert.deepEqual(rows.map((r) => Number(r.delta)), [fpq.delta, mm.delta]);
});

Deno.test("bad PTQ entries are refused as input errors", () => {
  assert.throws(
    () => ptqJobs(["nope"]),
    (e) => e instanceof InputError && /unknown recipe "nope"/.test(e.message),
  );
  assert.throws(() => ptqJobs(["fpq:w2a2"]), InputError);
  assert.deepEqual(ptqJobs(["fp4dit", "fpq:w4a8"]).map((j) => j.bits), ["w4a8", "w4a8"]);
});
