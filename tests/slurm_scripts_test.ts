/**
 * The --slurm scripts and flags without a cluster (seconds): flag validation, the scripts' directives and
 * bash syntax, the shared-storage refusal, the CLI's exit-2 paths and dry run, `sweep status`, and the
 * stop-at-checkpoint logic. The end-to-end path on a real cluster is slurm_cluster_test.ts.
 */
import assert from "node:assert/strict";
import { InputError } from "../lib/spec/errors.ts";
import {
  followupScript,
  parseSlurmFlags,
  shq,
  type SlurmPlan,
  slurmTimeSeconds,
  sweepScript,
} from "../lib/sweep/slurm.ts";
import { StopAtCheckpoint } from "../lib/sweep/slurm_stop.ts";

const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

function plan(over: Partial<SlurmPlan["options"]> = {}, root = "/shared/fp4 lab/results"): SlurmPlan {
  return {
    paths: {
      project: "/shared/fp4 lab",
      spec: "/shared/fp4 lab/experiments/it's.ts",
      resultsRoot: root,
      experiment: "exp",
      slurmDir: `${root}/exp/slurm`,
    },
    options: { ...parseSlurmFlags({ tasks: "3" }, 10), ...over },
    denoVersion: "2.9.6",
    markerToken: "token-123",
  };
}

async function bash(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command("bash", { args, env, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function sweepCli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/sweep.ts", ...args],
    cwd: repo,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("slurm flags: defaults, and each bad value is an InputError naming its flag", () => {
  const o = parseSlurmFlags({}, 3);
  assert.equal(o.tasks, 3);
  assert.equal(o.signalBefore, 120);
  assert.equal(o.fitForm, "quartet");
  const bad: [Record<string, string>, RegExp][] = [
    [{ tasks: "0" }, /--tasks/],
    [{ tasks: "11" }, /--tasks: 11 tasks for 10 runs/],
    [{ tasks: "two" }, /--tasks/],
    [{ time: "soon" }, /--time/],
    [{ "cpus-per-task": "0" }, /--cpus-per-task/],
    [{ partition: "a b" }, /--partition/],
    [{ extra: "--qos=x\n--mem=1G" }, /--extra/],
    [{ extra: "qos=x" }, /--extra/],
    [{ "fit-form": "linear" }, /--fit-form/],
    [{ "signal-before": "5" }, /--signal-before/],
    [{ time: "02:00" }, /--time: 02:00 leaves no minute/],
  ];
  for (const [flags, msg] of bad) {
    assert.throws(() => parseSlurmFlags(flags, 10), (e) => e instanceof InputError && msg.test(e.message));
  }
  for (const t of ["04:00:00", "90", "1-12:00:00", "30:00"]) {
    assert.equal(parseSlurmFlags({ time: t }, 1).time, t);
  }
  assert.deepEqual(
    ["90", "03:30", "01:02:03", "2-00", "1-01:30", "1-00:00:05"].map(slurmTimeSeconds),
    [5400, 210, 3723, 172800, 91800, 86405],
  );
});

Deno.test("slurm scripts: array of shards, requeue on SIGTERM, marker, pinned Deno; valid bash", async () => {
  const p = plan({
    partition: "gpu",
    account: "lab",
    time: "04:00:00",
    gpusPerTask: 1,
    extra: "--qos=high --mem=8G",
  });
  const s = sweepScript(p);
  for (
    const line of [
      "#SBATCH --array=1-3",
      "#SBATCH --requeue",
      "#SBATCH --signal=B:TERM@120",
      "#SBATCH --partition=gpu",
      "#SBATCH --account=lab",
      "#SBATCH --time=04:00:00",
      "#SBATCH --gpus-per-task=1",
      "#SBATCH --qos=high --mem=8G",
      "#SBATCH --open-mode=append",
      `shard="\${SLURM_ARRAY_TASK_ID:?submit this script with sbatch}/3"`,
      "--term-grace 90",
      "want=2.9.6",
      "spec='/shared/fp4 lab/experiments/it'\"'\"'s.ts'",
    ]
  ) assert.ok(s.includes(line), `sweep.sbatch lacks ${line}\n${s}`);
  // Every #SBATCH line comes before the first command (sbatch stops reading them there).
  const lines = s.split("\n");
  const firstCommand = lines.findIndex((l) => l !== "" && !l.startsWith("#"));
  assert.ok(lines.findLastIndex((l) => l.startsWith("#SBATCH")) < firstCommand);
  const f = followupScript(p);
  assert.match(f, /results merge "\$dir"/);
  assert.match(f, /fit "\$dir" --form quartet --baseline bf16/);
  assert.match(f, /plot "\$dir" --form quartet --baseline bf16/);
  assert.doesNotMatch(f, /--array|--requeue/);
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of [["sweep.sbatch", s], ["merge.sbatch", f]]) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
      const r = await bash(["-n", `${dir}/${name}`]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(shq("a b'c"), `'a b'"'"'c'`);
  assert.equal(shq("/plain/path-1.ts"), "/plain/path-1.ts");
});

Deno.test("slurm scripts refuse to run where the results directory is not shared (marker)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = plan({}, `${dir}/results`);
    await Deno.writeTextFile(`${dir}/sweep.sbatch`, sweepScript(p));
    const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", SLURM_ARRAY_TASK_ID: "1" };
    const missing = await bash([`${dir}/sweep.sbatch`], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /shared-storage\.marker is missing or stale .*not on storage shared/);
    // A stale marker (another submission's token) is refused too.
    await Deno.mkdir(p.paths.slurmDir, { recursive: true });
    await Deno.writeTextFile(`${p.paths.slurmDir}/shared-storage.marker`, "other-token");
    const stale = await bash([`${dir}/sweep.sbatch`], env);
    assert.equal(stale.code, 2);
    // The right token passes the marker check; the missing project directory is next.
    await Deno.writeTextFile(`${p.paths.slurmDir}/shared-storage.marker`, "token-123");
    const ok = await bash([`${dir}/sweep.sbatch`], env);
    assert.doesNotMatch(ok.stderr, /marker/);
    assert.equal(ok.code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sweep --slurm: bad flags exit 2 in one line; --dry-run prints both scripts and writes nothing", async () => {
  const spec = "experiments/quartet-tiny.ts";
  const noSlurm = await sweepCli([spec, "--tasks", "2"]);
  assert.equal(noSlurm.code, 2);
  assert.match(noSlurm.stderr, /^sweep: --tasks: only with --slurm/);
  const zero = await sweepCli([spec, "--slurm", "--tasks", "0"]);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /^sweep: --tasks: expected an integer ≥ 1/);
  const shard = await sweepCli([spec, "--slurm", "--shard", "1/2"]);
  assert.equal(shard.code, 2);
  const outside = await sweepCli([spec, "--slurm", "--results", "/tmp/elsewhere", "--dry-run"]);
  assert.equal(outside.code, 2);
  assert.match(outside.stderr, /--results: with --slurm the results root must be inside/);
  const grace = await sweepCli([spec, "--term-grace", "0"]);
  assert.equal(grace.code, 2);

  const root = `results/.slurm-dry-${Deno.pid}`;
  const dry = await sweepCli([
    spec,
    "--slurm",
    "--tasks",
    "3",
    "--time",
    "01:00:00",
    "--dry-run",
    "--results",
    root,
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /#SBATCH --array=1-3/);
  assert.match(dry.stdout, /merge\.sbatch \(submitted with --dependency=afterany:<array job id>\)/);
  assert.match(dry.stdout, /30 runs over 3 tasks \(\d+ \+ \d+ \+ \d+\)/);
  assert.equal(
    await Deno.stat(`${repo}/${root}`).then(() => true, () => false),
    false,
    "dry run wrote files",
  );

  // Without sbatch on PATH: one line naming the way to a local cluster, nothing written.
  const noSbatch = await sweepCli([spec, "--slurm", "--results", root], { PATH: "/nonexistent" });
  assert.equal(noSbatch.code, 2);
  assert.match(noSbatch.stderr, /sbatch not found .*tools\/slurm\/local-cluster\.sh start/);
  assert.equal(await Deno.stat(`${repo}/${root}`).then(() => true, () => false), false);
});

Deno.test("sweep status: a results directory's runs by state; unknown experiments exit 2", async () => {
  const ref = await sweepCli(["status", "reference/quartet-tiny"]);
  assert.equal(ref.code, 0, ref.stderr);
  assert.match(ref.stdout, /^quartet-tiny: 30 runs: 30 finished, 0 running, 0 pending, 0 failed, 0 diverged/);
  const none = await sweepCli(["status", "no-such-study"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^sweep: status: no results for "no-such-study"/);
});

Deno.test("stop at checkpoint: aborts on a checkpoint step, at once without checkpoints, or after the grace", async () => {
  const stopCtl = new AbortController();
  const stop = new StopAtCheckpoint(stopCtl.signal, 8, 60);
  const run = new AbortController();
  stop.attach(run);
  stop.onStep(8, 100); // not requested yet
  assert.equal(run.signal.aborted, false);
  stopCtl.abort("term");
  stop.onStep(9, 100);
  stop.onStep(15, 100);
  assert.equal(run.signal.aborted, false);
  stop.onStep(16, 100); // the engine is writing the step-16 checkpoint
  assert.equal(run.signal.aborted, true);
  assert.equal(stop.stopped, true);
  assert.equal(run.signal.reason, "term");
  stop.detach();

  const none = new StopAtCheckpoint(stopCtl.signal, 0, 60); // already requested, no checkpoints
  const run2 = new AbortController();
  none.attach(run2);
  assert.equal(run2.signal.aborted, true);
  none.detach();

  const slowCtl = new AbortController();
  const slow = new StopAtCheckpoint(slowCtl.signal, 1000, 0.05);
  const run3 = new AbortController();
  slow.attach(run3);
  slowCtl.abort("term");
  slow.onStep(1000, 1000); // the last step is no checkpoint the loop saves
  assert.equal(run3.signal.aborted, false);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(run3.signal.aborted, true);
  slow.detach();
});
