import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { columnsMarkdown, RUN_COLUMN_NAMES } from "../lib/results/columns.ts";
import { writeTextAtomic } from "../lib/results/atomic.ts";
import { mergeResults } from "../lib/results/merge.ts";
import { ResultsDir, type RunRecord } from "../lib/results/store.ts";
import type { RunRow } from "../lib/results/columns.ts";
import { renderRows } from "../lib/results/table.ts";
import { InputError } from "../lib/spec/errors.ts";

function row(id: string, scheme: string, n: number): RunRow {
  const r = Object.fromEntries(RUN_COLUMN_NAMES.map((c) => [c, null])) as RunRow;
  return {
    ...r,
    run_id: id,
    status: "finished",
    scheme,
    non_embedding_params: n,
    tokens: 100,
    seed: 0,
    final_val_loss: 2.5,
  };
}

const record = (r: RunRow, shard: string): RunRecord => ({
  version: 1,
  row: r,
  config: {} as RunRecord["config"],
  coords: { model: "m" },
  endedAt: "",
  shard,
});

Deno.test("the contract column list is exact", () => {
  assert.deepEqual(RUN_COLUMN_NAMES, [
    "run_id",
    "status",
    "family",
    "scheme",
    "fwd",
    "bwd",
    "fwd_bits",
    "bwd_bits",
    "layers",
    "d_model",
    "heads",
    "ffn",
    "context",
    "non_embedding_params",
    "total_params",
    "tokens",
    "flops",
    "final_val_loss",
    "final_train_loss",
    "wall_seconds",
    "tokens_per_second",
    "adapter",
    "hostname",
    "seed",
    "commit",
    "attention",
  ]);
  assert.match(columnsMarkdown(), /\| `non_embedding_params` \| int \|/);
});

Deno.test("lib/results/COLUMNS.md is generated from columns.ts", async () => {
  // deno fmt pads the table cells, so compare with runs of spaces and dashes squeezed.
  const norm = (t: string) => t.replace(/ *\| */g, "|").replace(/-{3,}/g, "---").trim();
  const md = await Deno.readTextFile(new URL("../lib/results/COLUMNS.md", import.meta.url));
  assert.ok(
    norm(md).includes(norm(columnsMarkdown())),
    "regenerate lib/results/COLUMNS.md from columnsMarkdown()",
  );
});

Deno.test("atomic writes leave no temp files and replace whole files", async () => {
  const dir = await Deno.makeTempDir();
  await writeTextAtomic(`${dir}/a/b.txt`, "one");
  await writeTextAtomic(`${dir}/a/b.txt`, "two");
  assert.equal(await Deno.readTextFile(`${dir}/a/b.txt`), "two");
  const names = [...Deno.readDirSync(`${dir}/a`)].map((e) => e.name);
  assert.deepEqual(names, ["b.txt"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("merge builds runs.csv from per-shard records, each run once, sorted", async () => {
  const root = await Deno.makeTempDir();
  const dir = ResultsDir.of(root, "exp");
  await dir.writeRun(record(row("b-1", "bf16", 200), "1of2"), []);
  await dir.writeRun(record(row("a-1", "bf16", 100), "2of2"), [{
    step: 1,
    tokens: 8,
    lr: 1e-3,
    trainLoss: 5,
  }]);
  await dir.writeRun(record(row("c-1", "fp32", 50), "2of2"), []);
  await writeTextAtomic(`${dir.metaDir("1of2")}/environment.json`, JSON.stringify({ "1of2": { deno: "x" } }));
  await writeTextAtomic(`${dir.metaDir("2of2")}/environment.json`, JSON.stringify({ "2of2": { deno: "y" } }));
  const { rows, shards } = await mergeResults(dir);
  assert.deepEqual(shards, ["1of2", "2of2"]);
  assert.deepEqual(rows.map((r) => r.run_id), ["a-1", "b-1", "c-1"]);
  const csv = parse(await Deno.readTextFile(dir.runsCsv), { columns: true }) as Record<string, string>[];
  assert.equal(csv.length, 3);
  assert.deepEqual(Object.keys(csv[0]), RUN_COLUMN_NAMES);
  const env = JSON.parse(await Deno.readTextFile(`${dir.dir}/environment.json`));
  assert.deepEqual(Object.keys(env).sort(), ["1of2", "2of2"]);
  const curve = await Deno.readTextFile(dir.curvePath("a-1"));
  assert.equal(curve.split("\n")[0], "step,tokens,lr,train_loss,val_loss");
  assert.match(renderRows(rows, "table"), /3 runs/);
  assert.equal(JSON.parse(renderRows(rows, "json")).length, 3);
  await Deno.remove(root, { recursive: true });
});

Deno.test("runs.csv lists the runs the spec lists; records of dropped runs stay on disk", async () => {
  const root = await Deno.makeTempDir();
  const dir = ResultsDir.of(root, "exp");
  for (const id of ["a-1", "b-1", "c-1"]) await dir.writeRun(record(row(id, "bf16", 100), "all"), []);
  await writeTextAtomic(`${dir.dir}/spec.json`, JSON.stringify({ runs: [{ id: "a-1" }, { id: "c-1" }] }));
  assert.deepEqual((await mergeResults(dir)).rows.map((r) => r.run_id), ["a-1", "c-1"]);
  assert.equal((await dir.readAllRecords()).length, 3);
  await Deno.remove(root, { recursive: true });
});

Deno.test("an unwritable results directory is reported as bad input", async () => {
  const root = await Deno.makeTempDir();
  await Deno.writeTextFile(`${root}/file`, "");
  await assert.rejects(ResultsDir.of(`${root}/file`, "exp").ensureWritable(), InputError);
  await Deno.remove(root, { recursive: true });
});

Deno.test("the recorded environment names the CPU model lscpu reports (llvmpipe results are per CPU family)", async () => {
  const { currentEnvironment } = await import("../lib/results/environment.ts");
  const env = await currentEnvironment("test adapter");
  const lscpu = await new Deno.Command("lscpu", { stdout: "piped", stderr: "null", env: { LC_ALL: "C" } })
    .output().then((o) => new TextDecoder().decode(o.stdout), () => null);
  const want = lscpu?.split("\n").find((l) => l.startsWith("Model name:"))?.slice(11).trim() ?? null;
  assert.equal(env.cpuModel, want);
  assert.equal(env.adapter, "test adapter");
  assert.match(env.commit, /^([0-9a-f]{40}|unknown)$/);
});
