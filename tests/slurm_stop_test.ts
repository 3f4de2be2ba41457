/**
 * SIGTERM (Slurm's time-limit warning, preemption) on a real sweep process, without a cluster: the sweep
 * trains on to its next checkpoint, exits 143 without a record, and the next invocation resumes at that
 * checkpoint and ends with the same runs.csv row and curve as an uninterrupted run.
 */
import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { parseExperiment } from "../lib/spec/validate.ts";
import { runSweep } from "../lib/sweep/runner.ts";

const repo = new URL("..", import.meta.url).pathname;
const spec = {
  name: "term-test",
  data: "sotu",
  models: [{ layers: 1, dModel: 32, heads: 1 }],
  schemes: ["fp32"],
  tokens: { absolute: [600 * 2 * 32] }, // 600 steps
  seeds: [0],
  optimizer: { lr: { rule: "constant", value: 3e-3 } },
  batch: 2,
  context: 32,
  evalTokens: 256,
  checkpointEvery: 40,
};
const timing = new Set(["wall_seconds", "tokens_per_second", "commit"]);

async function rowsAndCurve(root: string) {
  const dir = `${root}/${spec.name}`;
  const rows =
    (parse(await Deno.readTextFile(`${dir}/runs.csv`), { columns: true }) as Record<string, string>[])
      .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !timing.has(k))));
  return { rows, curve: await Deno.readTextFile(`${dir}/curves/${rows[0].run_id}.csv`) };
}

Deno.test("SIGTERM: the sweep stops at its next checkpoint (exit 143) and resumes there, same result", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "term-test-" });
  try {
    const specPath = `${tmp}/spec.json`;
    await Deno.writeTextFile(specPath, JSON.stringify(spec));
    const reference = await runSweep({
      spec: parseExperiment(spec),
      resultsRoot: `${tmp}/ref`,
      sink: () => {},
    });
    assert.equal(reference.finished, 1);

    const sweep = () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "cli/sweep.ts", specPath, "--results", `${tmp}/term`],
        cwd: repo,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    const runs = `${tmp}/term/${spec.name}/runs`;
    const state = async () => {
      let names: string[] = [];
      try {
        names = [...Deno.readDirSync(runs)].map((e) => e.name);
      } catch { /* not created yet */ }
      for (const name of names) {
        const s = await Deno.readTextFile(`${runs}/${name}/ckpt/trainer_state.json`).then(
          JSON.parse,
          () => null,
        );
        if (s) return { id: name, step: s.step as number };
      }
      return undefined;
    };
    const child = sweep();
    let first: { id: string; step: number } | undefined;
    for (let i = 0; i < 1200 && !first; i++) {
      first = await state();
      if (!first) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(first, "no checkpoint appeared");
    child.kill("SIGTERM");
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 143, stderr);
    assert.match(stderr, /SIGTERM: stopping at the next checkpoint[\s\S]*stopped at a checkpoint/);
    const stopped = (await state())!;
    assert.equal(stopped.step % spec.checkpointEvery, 0);
    assert.ok(
      stopped.step > first.step && stopped.step < 600,
      `stopped at ${stopped.step}, first ${first.step}`,
    );
    assert.equal(await Deno.stat(`${runs}/${stopped.id}/record.json`).then(() => true, () => false), false);

    const again = await sweep().output();
    const stderr2 = new TextDecoder().decode(again.stderr);
    assert.equal(again.code, 0, stderr2);
    assert.match(
      stderr2,
      new RegExp(`${stopped.id}: resumed from its checkpoint at step ${stopped.step}\\b`),
    );
    assert.deepEqual(await rowsAndCurve(`${tmp}/term`), await rowsAndCurve(`${tmp}/ref`));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("stop at checkpoint: the engine writes the requested step's checkpoint before it stops", async () => {
  // The contract StopAtCheckpoint relies on: the report of a checkpoint step k arrives while the engine is
  // saving k, before it looks at its abort signal again. Requested at step 22 with checkpoints every 20, the
  // run must stop with its checkpoint at 40; aborting at once would leave the one at 20 (the loss ring
  // lags 6 steps, so a request reported just before a checkpoint cannot tell the two apart).
  const { expandExperiment } = await import("../lib/sweep/expand.ts");
  const { train } = await import("../lib/engine/train.ts");
  const { loadTrainerState } = await import("../lib/engine/checkpoint.ts");
  const { StopAtCheckpoint } = await import("../lib/sweep/slurm_stop.ts");
  const { runs } = await expandExperiment(parseExperiment({ ...spec, checkpointEvery: 20 }));
  const outDir = await Deno.makeTempDir({ prefix: "term-engine-" });
  try {
    const request = new AbortController();
    const run = new AbortController();
    const stop = new StopAtCheckpoint(request.signal, 20, 600);
    stop.attach(run);
    await assert.rejects(() =>
      train(runs[0].config, {
        outDir,
        checkpointEvery: 20,
        resume: true,
        signal: run.signal,
        onProgress: (p) => {
          if (p.step === 22) request.abort("term");
          stop.onStep(p.step, p.steps);
        },
      })
    );
    stop.detach();
    assert.equal(stop.stopped, true);
    assert.equal(loadTrainerState(outDir)?.state.step, 40);
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
});
