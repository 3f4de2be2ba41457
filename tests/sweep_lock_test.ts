/**
 * Issue #15, item 4: one lock per run. A held lock is refused to every other taker (it names the
 * owner), a lock whose process was killed is taken again, a sweep skips runs another process trains,
 * and the same shard started twice at once trains every run exactly once.
 */
import assert from "node:assert/strict";
import { ownerText, tryLockRun } from "../lib/sweep/lock.ts";
import { parseExperiment } from "../lib/spec/validate.ts";
import { runSweep } from "../lib/sweep/runner.ts";
import { expandExperiment } from "../lib/sweep/expand.ts";
import { ResultsDir } from "../lib/results/store.ts";

const repo = new URL("..", import.meta.url).pathname;

Deno.test("run lock: exclusive while held, owner named, taken again after release", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/locks/run-a.lock`;
  const a = tryLockRun(path);
  assert.ok(!("busy" in a));
  const b = tryLockRun(path);
  assert.ok("busy" in b);
  assert.equal(b.owner?.pid, Deno.pid);
  assert.match(ownerText(b.owner), new RegExp(`^pid ${Deno.pid} on \\S+ since \\d{4}-`));
  a.release();
  a.release(); // idempotent
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  const c = tryLockRun(path);
  assert.ok(!("busy" in c));
  c.release();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("run lock: a lock left by a killed process (kill -9) is taken again", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/locks/run-b.lock`;
  const lockModule = new URL("../lib/sweep/lock.ts", import.meta.url).href;
  const holder = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const { tryLockRun } = await import(${JSON.stringify(lockModule)});
       const l = tryLockRun(${JSON.stringify(path)}); console.log("busy" in l ? "busy" : "held");
       await new Promise((r) => setTimeout(r, 60000));`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = holder.stdout.getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value).trim(), "held");
  const busy = tryLockRun(path);
  assert.ok("busy" in busy && busy.owner?.pid === holder.pid, JSON.stringify(busy));
  holder.kill("SIGKILL");
  await holder.status;
  reader.releaseLock();
  await holder.stdout.cancel();
  const again = tryLockRun(path); // the file is still there, with the dead owner's pid; the lock is not
  assert.ok(!("busy" in again), "a dead process's lock must not block");
  again.release();
  await Deno.remove(dir, { recursive: true });
});

const spec = {
  name: "lock-test",
  data: "sotu",
  models: [{ layers: 1, dModel: 32, heads: 2 }],
  schemes: ["fp32"],
  tokens: { absolute: [8 * 32 * 2] },
  seeds: [0, 1],
  optimizer: { lr: { rule: "constant", value: 3e-3 } },
  batch: 2,
  context: 32,
  evalTokens: 64,
  checkpointEvery: 0,
};

Deno.test("a sweep skips a run whose lock another process holds, and trains it once the lock is free", async () => {
  const root = await Deno.makeTempDir();
  const parsed = parseExperiment({ ...spec, seeds: [0] });
  const [run] = (await expandExperiment(parsed)).runs;
  const dir = ResultsDir.of(root, spec.name);
  const held = tryLockRun(`${dir.dir}/locks/${run.id}.lock`);
  assert.ok(!("busy" in held));
  const notes: string[] = [];
  const s = await runSweep({ spec: parsed, resultsRoot: root, sink: (l) => notes.push(l) });
  assert.deepEqual([s.busy, s.finished], [1, 0]);
  assert.equal(await dir.readRecord(run.id), undefined);
  assert.ok(
    notes.some((l) => l.includes(`${run.id}: skipped, being trained by pid ${Deno.pid}`)),
    notes.join("\n"),
  );
  held.release();
  const t = await runSweep({ spec: parsed, resultsRoot: root, sink: () => {} });
  assert.deepEqual([t.busy, t.finished], [0, 1]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("the same shard started twice at once trains each run exactly once", async () => {
  const root = await Deno.makeTempDir();
  const specPath = `${root}/spec.json`;
  await Deno.writeTextFile(specPath, JSON.stringify(spec));
  const start = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli/sweep.ts", specPath, "--results", root],
      cwd: repo,
      stdout: "piped",
      stderr: "piped",
    }).output();
  const outs = await Promise.all([start(), start()]);
  const text = outs.map((o) => new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr));
  outs.forEach((o, i) => assert.equal(o.code, 0, text[i]));
  // Each summary line says how many runs that process trained; together exactly the two runs.
  const trained = text.map((t) => Number(/: (\d+) finished/.exec(t)?.[1] ?? NaN));
  assert.equal(trained[0] + trained[1], 2, text.join("\n---\n"));
  const dir = ResultsDir.of(root, spec.name);
  const records = await dir.readAllRecords();
  assert.equal(records.length, 2);
  await Deno.remove(root, { recursive: true });
});
