/**
 * End-to-end sweeps on real tiny models: SIGKILL at random points then resume must give the same
 * runs.csv and curves as an uninterrupted sweep; two concurrent shards over one directory must merge
 * to the same full set; re-running a finished sweep does no work.
 */
import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { parseExperiment } from "../lib/spec/validate.ts";
import { runSweep } from "../lib/sweep/runner.ts";
import { mergeResults } from "../lib/results/merge.ts";
import { ResultsDir } from "../lib/results/store.ts";

const repo = new URL("..", import.meta.url).pathname;
const spec = {
  name: "resume-test",
  data: "sotu",
  models: [{ layers: 1, dModel: 32, heads: 2 }],
  // One scheme and one shape: every process compiles a single set of pipelines (slow on llvmpipe).
  schemes: ["fp32"],
  tokens: { absolute: [16 * 32 * 2, 40 * 32 * 2] },
  seeds: [0, 1],
  optimizer: { lr: { rule: "constant", value: 3e-3 } },
  batch: 2,
  context: 32,
  evalEvery: 8,
  evalTokens: 256,
  checkpointEvery: 4,
};
// Columns that depend on timing (and on commits others push meanwhile), not on the computation.
const timing = new Set(["wall_seconds", "tokens_per_second", "commit"]);

async function tidy(
  root: string,
): Promise<{ rows: Record<string, string>[]; curves: Record<string, string> }> {
  const dir = ResultsDir.of(root, spec.name);
  const rows = (parse(await Deno.readTextFile(dir.runsCsv), { columns: true }) as Record<string, string>[])
    .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !timing.has(k))));
  const curves: Record<string, string> = {};
  for (const r of rows) curves[r.run_id] = await Deno.readTextFile(dir.curvePath(r.run_id));
  return { rows, curves };
}

function sweepProcess(specPath: string, root: string, ...extra: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/sweep.ts", specPath, "--results", root, ...extra],
    cwd: repo,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

let reference: Awaited<ReturnType<typeof tidy>> | undefined;
const tmp = await Deno.makeTempDir({ prefix: "sweep-test-" });
const specPath = `${tmp}/spec.json`;
await Deno.writeTextFile(specPath, JSON.stringify(spec));

async function getReference() {
  if (!reference) {
    const s = await runSweep({ spec: parseExperiment(spec), resultsRoot: `${tmp}/ref`, sink: () => {} });
    assert.equal(s.finished, 4);
    reference = await tidy(`${tmp}/ref`);
    assert.equal(reference.rows.length, 4);
    assert.ok(reference.rows.every((r) => r.status === "finished" && Number(r.final_val_loss) > 0));
    // A finished sweep does no work the second time.
    const again = await runSweep({ spec: parseExperiment(spec), resultsRoot: `${tmp}/ref`, sink: () => {} });
    assert.equal(again.skipped, 4);
    assert.equal(again.finished + again.failed + again.diverged, 0);
  }
  return reference;
}

/** Names and mtimes of the checkpoints and records under root: changes whenever training progresses. */
async function progressMark(root: string): Promise<string> {
  const runs = `${root}/${spec.name}/runs`;
  const marks: string[] = [];
  try {
    for await (const e of Deno.readDir(runs)) {
      for (const f of [`${e.name}/ckpt/trainer_state.json`, `${e.name}/record.json`]) {
        const st = await Deno.stat(`${runs}/${f}`).catch(() => undefined);
        if (st) marks.push(`${f}@${st.mtime?.getTime()}`);
      }
    }
  } catch { /* nothing yet */ }
  return marks.sort().join(",");
}

Deno.test("a sweep killed with SIGKILL at random points resumes to the same runs.csv", async () => {
  const ref = await getReference();
  const root = `${tmp}/killed`;
  const seed = Date.now() % 100000;
  let state = seed + 1;
  const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
  const kills: number[] = [];
  // Each attempt waits until training has made progress (a new checkpoint or record), then kills
  // after a further random delay: between checkpoints, inside one, or while a record is written.
  for (let attempt = 0; attempt < 3; attempt++) {
    const child = sweepProcess(specPath, root);
    const status = child.status;
    let exited = false;
    status.then(() => (exited = true));
    const before = await progressMark(root);
    const t0 = performance.now();
    while (!exited && (await progressMark(root)) === before) await new Promise((r) => setTimeout(r, 20));
    if (!exited) {
      await new Promise((r) => setTimeout(r, random() * 300));
      if (!exited) {
        child.kill("SIGKILL");
        kills.push(Math.round(performance.now() - t0));
      }
    }
    const out = await child.output();
    if (out.success) break;
    assert.equal(out.signal, "SIGKILL", new TextDecoder().decode(out.stderr));
  }
  const last = await sweepProcess(specPath, root).output();
  assert.ok(last.success, new TextDecoder().decode(last.stderr));
  assert.ok(kills.length >= 2, `the sweep was interrupted only ${kills.length} times`);
  const got = await tidy(root);
  const why = `seed ${seed}, kills at ${kills.join(", ")} ms after start`;
  assert.deepEqual(got.rows, ref.rows, why);
  assert.deepEqual(got.curves, ref.curves, why);
});

Deno.test("two shards run concurrently over one directory and merge to the full set", async () => {
  const ref = await getReference();
  const root = `${tmp}/shards`;
  const [a, b] = await Promise.all([
    sweepProcess(specPath, root, "--shard", "1/2").output(),
    sweepProcess(specPath, root, "--shard", "2/2").output(),
  ]);
  assert.ok(a.success, new TextDecoder().decode(a.stderr));
  assert.ok(b.success, new TextDecoder().decode(b.stderr));
  const dir = ResultsDir.of(root, spec.name);
  const shards = (await dir.readAllRecords()).map((r) => r.shard).sort();
  assert.deepEqual(shards, ["1of2", "1of2", "2of2", "2of2"]);
  // `deno task results merge` rebuilds runs.csv; `deno task results --format csv` prints it.
  const cli = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli/results.ts", ...args, "--results", root],
      cwd: repo,
      stdout: "piped",
      stderr: "piped",
    }).output();
  const merge = await cli("merge", spec.name);
  assert.ok(merge.success, new TextDecoder().decode(merge.stderr));
  assert.match(new TextDecoder().decode(merge.stdout), /4 runs \(from shards 1of2, 2of2\)/);
  const printed = await cli(spec.name, "--format", "csv");
  assert.equal(new TextDecoder().decode(printed.stdout), await Deno.readTextFile(dir.runsCsv));
  const bad = await cli(spec.name.slice(0, -1), "--format", "csv");
  assert.equal(bad.code, 2);
  assert.match(new TextDecoder().decode(bad.stderr), /did you mean "resume-test"/);
  // Merging again changes nothing: every run appears exactly once.
  assert.equal((await mergeResults(dir)).rows.length, 4);
  const got = await tidy(root);
  assert.deepEqual(got.rows, ref.rows);
  assert.deepEqual(got.curves, ref.curves);
  await Deno.remove(tmp, { recursive: true });
});
