/**
 * The Slurm path on a real one-node cluster (tools/slurm/local-cluster.sh: slurm-wlm and munge from Debian,
 * installed when missing, daemons started in a temporary directory on spare ports and stopped by their pids
 * at the end, even when the test fails). A tiny spec (6 bf16 runs of 1–3 layers, d 32) is
 * 1. trained locally in one process: the reference;
 * 2. submitted with `deno task sweep SPEC --slurm --tasks 2`: the merged runs.csv and curves equal the
 *    reference (same run ids, bit-identical losses), the follow-up job fitted and plotted;
 * 3. submitted again, and one array task is requeued mid-run (`scontrol requeue`): it stops at a checkpoint,
 *    Slurm starts it again, it resumes there; the result is again identical, with no duplicate rows.
 * Skipped, with the missing piece named, when not root and Slurm or munge is missing (or not root at all:
 * the daemons need it).
 */
import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";

const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const script = `${repo}/tools/slurm/local-cluster.sh`;

function has(cmd: string): boolean {
  for (const d of (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/usr/bin"])) {
    try {
      if (Deno.statSync(`${d}/${cmd}`).isFile) return true;
    } catch { /* next */ }
  }
  return false;
}
const missing = [
  ...(["slurmctld", "slurmd", "sbatch"].every(has) ? [] : ["slurm-wlm"]),
  ...(["munged"].every(has) ? [] : ["munge"]),
];
const isRoot = Deno.uid() === 0;
const skip = !isRoot;
if (skip) {
  console.warn(
    `slurm_cluster_test skipped: needs root to run slurmd and munged` +
      (missing.length ? ` and to install ${missing.join(", ")} (apt-get install ${missing.join(" ")})` : ""),
  );
}

const spec = {
  name: "slurm-tiny",
  data: "sotu",
  models: [{ layers: 1, dModel: 32 }, { layers: 2, dModel: 32 }, { layers: 3, dModel: 32 }],
  schemes: ["bf16"],
  // 64 and 256 steps of 128 tokens: the long runs give the requeue a moment to land mid-run.
  tokens: { absolute: [8192, 32768] },
  seeds: [0],
  optimizer: { lr: { rule: "constant", value: 5e-3 } },
  batch: 4,
  context: 32,
  evalTokens: 1024,
  checkpointEvery: 8,
};
// Columns that depend on timing and checkout, not on the computation.
const timing = new Set(["wall_seconds", "tokens_per_second", "commit"]);

async function sh(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, cwd: repo, env, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function tidy(dir: string) {
  const text = await Deno.readTextFile(`${dir}/runs.csv`);
  const rows = (parse(text, { columns: true }) as Record<string, string>[])
    .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !timing.has(k))));
  const curves: Record<string, string> = {};
  for (const r of rows) curves[r.run_id] = await Deno.readTextFile(`${dir}/curves/${r.run_id}.csv`);
  return { rows, curves };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function jobField(env: Record<string, string>, id: string, field: string): Promise<string | undefined> {
  const r = await sh("scontrol", ["show", "job", "-o", id], env);
  return new RegExp(`\\b${field}=(\\S+)`).exec(r.stdout)?.[1];
}

/** Waits until job `id` has ended; returns its final state. */
async function waitEnded(env: Record<string, string>, id: string, timeoutS: number): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const st = await jobField(env, id, "JobState");
    if (st && !["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED"].includes(st)) return st;
    if (Date.now() - t0 > timeoutS * 1000) throw new Error(`job ${id} still ${st} after ${timeoutS} s`);
    await sleep(500);
  }
}

Deno.test({
  name: "slurm: a 2-task --slurm sweep on a one-node cluster equals a local run, also after a requeue",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const t0 = performance.now();
    const clusterDir = await Deno.makeTempDir({ prefix: "fp4lab-slurm-test-" });
    const root = `${repo}/results/.slurm-test-${Deno.pid}`;
    const env: Record<string, string> = {
      FP4LAB_SLURM_DIR: clusterDir,
      FP4LAB_SLURM_PORT: "16817",
      SLURM_CONF: `${clusterDir}/slurm.conf`,
      NO_COLOR: "1",
    };
    const pids: number[] = [];
    try {
      await Deno.mkdir(root, { recursive: true });
      const specPath = `${root}/spec.json`;
      await Deno.writeTextFile(specPath, JSON.stringify(spec));

      const up = await sh(script, ["start"], env);
      assert.equal(up.code, 0, `local-cluster.sh start failed:\n${up.stderr}`);
      for (const d of ["slurmctld", "slurmd", "munged"]) {
        // munged.pid exists only when the script started munged (one already running is left alone).
        const pid = await Deno.readTextFile(`${clusterDir}/${d}.pid`).then(Number, () => 0);
        if (pid > 0) pids.push(pid);
      }
      assert.ok(pids.length >= 2, "slurmctld/slurmd pid files missing");
      const status = await sh(script, ["status"], env);
      assert.match(status.stdout, /idle/, status.stdout + status.stderr);
      console.log(`cluster up after ${((performance.now() - t0) / 1000).toFixed(1)} s`);

      const sweep = (...args: string[]) =>
        sh(Deno.execPath(), ["task", "-q", "sweep", specPath, ...args], env);
      const local = await sweep("--results", `${root}/local`);
      assert.equal(local.code, 0, local.stderr);
      const reference = await tidy(`${root}/local/${spec.name}`);
      assert.equal(reference.rows.length, 6);
      console.log(`local reference after ${((performance.now() - t0) / 1000).toFixed(1)} s`);

      const submit = async (name: string) => {
        const r = await sweep(
          "--slurm",
          "--tasks",
          "2",
          "--cpus-per-task",
          "1",
          "--fit-form",
          "chinchilla",
          "--time",
          "00:10:00",
          "--results",
          `${root}/${name}`,
        );
        assert.equal(r.code, 0, r.stderr + r.stdout);
        assert.match(r.stdout, /submitted 6 runs as array job \d+ \(2 tasks/);
        const dir = `${root}/${name}/${spec.name}`;
        const jobs = JSON.parse(await Deno.readTextFile(`${dir}/slurm/jobs.json`));
        return { dir, jobs: jobs as { array: string; followup: string } };
      };
      const checkSame = async (dir: string) => {
        const got = await tidy(dir);
        const ids = got.rows.map((r) => r.run_id);
        assert.equal(new Set(ids).size, ids.length, "duplicate rows in runs.csv");
        assert.deepEqual(got.rows.map((r) => r.run_id), reference.rows.map((r) => r.run_id));
        assert.deepEqual(got.rows, reference.rows); // losses bit for bit (and hostname, adapter)
        assert.deepEqual(got.curves, reference.curves);
        assert.ok(got.rows.every((r) => r.hostname === Deno.hostname() && r.adapter !== ""));
        await Deno.stat(`${dir}/fit.json`);
        await Deno.stat(`${dir}/charts/loss_vs_compute.png`);
      };

      await t.step("2-task array + merge-fit-plot job equals the local run", async () => {
        const { dir, jobs } = await submit("c1");
        const st = await waitEnded(env, jobs.followup, 240);
        const log = await Deno.readTextFile(`${dir}/slurm/logs/merge-${jobs.followup}.out`).catch(() => "");
        assert.equal(st, "COMPLETED", log);
        for (const task of [1, 2]) {
          assert.equal(await jobField(env, `${jobs.array}_${task}`, "JobState"), "COMPLETED");
        }
        await checkSame(dir);
        const s = await sh(Deno.execPath(), [
          "task",
          "-q",
          "sweep",
          "status",
          spec.name,
          "--results",
          `${root}/c1`,
        ], env);
        assert.equal(s.code, 0, s.stdout);
        assert.match(s.stdout, /6 runs: 6 finished/);
        console.log(`clean cluster run done after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      });

      await t.step(
        "a task requeued mid-run resumes from its checkpoint: same result, no duplicates",
        async () => {
          const { dir, jobs } = await submit("c2");
          const owners = JSON.parse(await Deno.readTextFile(`${dir}/slurm/runs.json`)).runs as {
            id: string;
            task: number;
          }[];
          // Wait for a run with a checkpoint in its first half and no record yet, then requeue its task.
          let victim: { id: string; task: number; step: number } | undefined;
          const deadline = Date.now() + 180_000;
          while (!victim && Date.now() < deadline) {
            for (const o of owners) {
              const rd = `${dir}/runs/${o.id}`;
              const state = await Deno.readTextFile(`${rd}/ckpt/trainer_state.json`).then(
                JSON.parse,
                () => undefined,
              );
              const done = await Deno.stat(`${rd}/record.json`).then(() => true, () => false);
              if (state && !done && state.step <= state.config.steps / 2) {
                victim = { ...o, step: state.step };
                break;
              }
            }
            if (!victim) await sleep(50);
          }
          assert.ok(victim, "no run was caught mid-run");
          const rq = await sh("scontrol", ["requeue", `${jobs.array}_${victim.task}`], env);
          assert.equal(rq.code, 0, rq.stderr);
          console.log(`requeued task ${victim.task} at step ≥ ${victim.step} of ${victim.id}`);

          const st = await waitEnded(env, jobs.followup, 300);
          const log = await Deno.readTextFile(`${dir}/slurm/logs/merge-${jobs.followup}.out`).catch(() => "");
          assert.equal(st, "COMPLETED", log);
          assert.equal(await jobField(env, `${jobs.array}_${victim.task}`, "Restarts"), "1");
          const taskLog = await Deno.readTextFile(`${dir}/slurm/logs/sweep-${jobs.array}_${victim.task}.out`);
          assert.match(taskLog, /attempt 1[\s\S]*stopped at a checkpoint[\s\S]*attempt 2/, taskLog);
          const second = taskLog.slice(taskLog.indexOf("attempt 2"));
          assert.match(second, new RegExp(`${victim.id}: resumed from its checkpoint at step \\d+`), taskLog);
          await checkSame(dir);
          console.log(`requeue run done after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        },
      );
    } finally {
      const down = await sh(script, ["stop"], env);
      if (down.code !== 0) console.error(down.stderr);
      const survivors = pids.filter((p) => {
        try {
          Deno.kill(p, "SIGKILL"); // still alive after stop: by its pid, never by name
          return true;
        } catch {
          return false; // gone, as it should be
        }
      });
      await Deno.remove(root, { recursive: true }).catch(() => {});
      await Deno.remove(clusterDir, { recursive: true }).catch(() => {});
      console.log(`slurm test: ${((performance.now() - t0) / 1000).toFixed(1)} s end to end`);
      assert.deepEqual(survivors, [], "daemons still running after local-cluster.sh stop");
    }
  },
});
