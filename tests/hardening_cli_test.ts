/**
 * Issue #15 regressions, CLI side, on real processes with the tasks' own permissions: every task
 * answers --help (exit 0); user errors are one line `task: message`, exit 2, before any work (spec or
 * results outside what the task may read/write, unwritable --out, negative --lr, bad seeds); a task
 * whose parent is killed with SIGKILL exits instead of running on as an orphan.
 */
import assert from "node:assert/strict";

const repo = new URL("..", import.meta.url).pathname;
const dec = new TextDecoder();

interface Out {
  code: number;
  out: string;
  err: string;
  ms: number;
}

/** `deno task NAME args…` (the task's real permissions); the "Task …" banner is dropped from stderr. */
async function task(name: string, ...args: string[]): Promise<Out> {
  const t = performance.now();
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", name, ...args],
    cwd: repo,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const err = dec.decode(o.stderr).split("\n").filter((l) => l && !/^Task /.test(l)).join("\n");
  return { code: o.code, out: dec.decode(o.stdout), err, ms: performance.now() - t };
}

/** Runs `cases` a few at a time (the machine is small). */
async function batched<T>(cases: (() => Promise<T>)[], width = 4): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < cases.length; i += width) {
    out.push(...await Promise.all(cases.slice(i, i + width).map((c) => c())));
  }
  return out;
}

function oneLine(r: Out, task: string, pattern: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.err}`);
  const lines = r.err.trim().split("\n");
  assert.equal(lines.length, 1, `${what}: ${lines.length} lines:\n${r.err}`);
  assert.ok(lines[0].startsWith(`${task}: `), `${what}: ${lines[0]}`);
  assert.ok(!lines[0].startsWith(`${task}: ${task}:`), `${what}: doubled prefix: ${lines[0]}`);
  assert.doesNotMatch(lines[0], /NotCapable|not found|closest: *$|Stack| {4}at /, what);
  assert.match(lines[0], pattern, what);
}

Deno.test("every task answers --help with its usage and exit 0", async () => {
  const tasks = [
    "train",
    "eval",
    "quantize",
    "bench",
    "spec-schema",
    "schemes",
    "sweep",
    "results",
    "plot",
    "fit",
    "demo",
  ];
  const outs = await batched(tasks.map((t) => () => task(t, "--help")));
  outs.forEach((r, i) => {
    assert.equal(r.code, 0, `${tasks[i]} --help: ${r.err}`);
    assert.match(r.out, /usage/i, `${tasks[i]} --help printed: ${r.out}`);
    assert.equal(r.err, "", `${tasks[i]} --help wrote to stderr: ${r.err}`);
  });
  const sh = await new Deno.Command(`${repo}/fp4lab`, { args: ["--help"], stdout: "piped", stderr: "piped" })
    .output();
  assert.equal(sh.code, 0);
  assert.match(dec.decode(sh.stdout), /^usage: \.\/fp4lab/);
});

Deno.test("user errors: one line `task: …`, exit 2, before any work", async () => {
  const outside = await Deno.makeTempDir();
  await Deno.writeTextFile(`${outside}/spec.json`, "{}");
  const cases: [string, string[], RegExp][] = [
    [
      "sweep",
      [`${outside}/spec.json`, "--dry-run"],
      /outside the folders this task may read.*move or copy it under the project/,
    ],
    [
      "sweep",
      ["experiments/quartet-tiny.ts", "--results", `${outside}/r`],
      /outside the folders this task may write \(results\/\); choose one under results\/ with --results/,
    ],
    [
      "sweep",
      ["experiments/quartet-tiny.ts", "--dry-run", "--results", outside],
      /cannot be read: it is outside/,
    ],
    ["sweep", ["experiments/no-such-spec.ts"], /spec experiments\/no-such-spec\.ts does not exist/],
    [
      "sweep",
      ["experiments/quartet-tiny.ts", "--probe-steps", "-1"],
      /--probe-steps: expected a positive integer/,
    ],
    [
      "sweep",
      ["experiments/quartet-tiny.ts", "--shard", "1/9999999999"],
      /--shard: expected i\/n with 1 ≤ i ≤ n ≤ 10000/,
    ],
    ["results", ["--results", outside], /cannot be read: it is outside/],
    ["train", ["--lr", "-1"], /^train: --lr must be a positive number/],
    ["train", ["--seed=-1"], /--seed must be an integer in \[0, 4294967295\]/],
    ["train", ["--seed", "4294967296"], /--seed must be an integer in \[0, 4294967295\]/],
    ["train", ["--heads", "3"], /^train: model: d-model 128 is not divisible by heads 3$/],
    ["train", ["--scheme", "zzzzzzzzzzzzzzzzzz"], /unknown scheme "z+"; known: .* in all\)$/],
    ["train", ["--data", "sotu:extra"], /--data: data source "sotu" takes no options/],
    ["train", ["--data", "markov:tokens=3e9"], /--data: markov: tokens must be an integer/],
    ["train", ["--bogus"], /Unknown option '--bogus'\. \(see --help\)$/],
    ["eval", [], /--checkpoint DIR and one of --text FILE or --inputs FILE are required/],
    ["eval", ["--checkpoint", outside, "--text", `${outside}/none.txt`], /text file .* does not exist/],
    ["quantize", ["--format", "constructor"], /unknown format "constructor"/],
    ["quantize", ["--format", "mxfp4", "--seed", "-1"], /--seed "-1" is not a u32 integer/],
    ["spec-schema", [`${outside}/s.json`], /may only write under experiments\//],
    ["plot", ["no-such-experiment"], /no results for 'no-such-experiment'/],
    ["bench", ["nope"], /unknown benchmark "nope"/],
  ];
  try {
    const outs = await batched(cases.map(([t, a]) => () => task(t, ...a)));
    outs.forEach((r, i) => oneLine(r, cases[i][0], cases[i][2], `${cases[i][0]} ${cases[i][1].join(" ")}`));
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("train --out that cannot be created fails before the first step", async () => {
  const r = await task(
    "train",
    "--out",
    "/proc/fp4lab-x",
    "--layers",
    "1",
    "--d-model",
    "32",
    "--heads",
    "1",
    "--context",
    "32",
    "--batch",
    "1",
    "--steps",
    "100000",
  );
  oneLine(
    r,
    "train",
    /output directory \/proc\/fp4lab-x cannot be written: .*choose another folder with --out/,
    "train --out",
  );
  assert.doesNotMatch(r.err, /^step /m);
});

/** Pids of the processes whose parent is `ppid` (from /proc). */
async function children(ppid: number): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === ppid) out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}

const alive = (pid: number) => Deno.stat(`/proc/${pid}`).then(() => true, () => false);

Deno.test("kill -9 of `deno task` ends the task it started (no orphan keeps running)", async () => {
  // quantize waits on stdin, which stays open: without the parent watch it would wait forever.
  const p = new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "quantize", "--format", "e2m1"],
    cwd: repo,
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let child: number | undefined;
  for (let i = 0; i < 100 && child === undefined; i++) {
    child = (await children(p.pid))[0];
    if (child === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(child !== undefined, "deno task started no child");
  await new Promise((r) => setTimeout(r, 1500)); // the task is up and watching
  p.kill("SIGKILL");
  await p.status;
  let gone = false;
  for (let i = 0; i < 50 && !gone; i++) {
    gone = !(await alive(child));
    if (!gone) await new Promise((r) => setTimeout(r, 100));
  }
  if (!gone) Deno.kill(child, "SIGKILL");
  await p.stdin.close().catch(() => {});
  await p.stderr.cancel();
  assert.ok(gone, "the task outlived its parent by 5 s");
});
