import assert from "node:assert/strict";
import { parseTable, toRuns } from "../lib/fit/data.ts";
import { fitRuns } from "../lib/fit/execute.ts";
import { applyFilters, dropTopLoss, parseWhere } from "../lib/fit/filter.ts";
import { builtinForm } from "../lib/fit/forms/mod.ts";
import { makeRng } from "../lib/fit/random.ts";

const cli = new URL("../cli/fit.ts", import.meta.url).pathname;
const root = new URL("..", import.meta.url).pathname;

async function run(args: string[], cwd?: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    cwd,
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

function oneLineExit2(r: { code: number; stderr: string }, pattern: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

/** A published-style CSV: N, compute C, a precomputed D = C/(6N), loss, and a precision label. */
function publishedCsv(): string {
  const rng = makeRng(9), lines = ["N,C,D,loss,fwd"];
  for (const N of [1e6, 3e6, 1e7, 3e7, 1e8, 3e8]) {
    for (const r of [5, 10, 20, 40, 80]) {
      for (const fwd of ["BF16", "FP8"]) {
        const D = N * r, C = 6 * N * D, eff = fwd === "BF16" ? 1 : 0.9;
        const L = (1.69 + 406.4 / (N * eff) ** 0.34 + 410.7 / D ** 0.28) * Math.exp(0.002 * rng.normal());
        lines.push(`${N},${C},${D},${L},${fwd}`);
      }
    }
  }
  return lines.join("\n");
}
const cols = (o: { d: string; c?: string }) => ({
  n: "N",
  loss: "loss",
  fwd: "fwd",
  bwd: "bwd",
  bits: [],
  fwdBits: "fwd_bits",
  bwdBits: "bwd_bits",
  ...o,
});

Deno.test("--c-col: D = C/(6N) gives the runs and the fit a precomputed D column gives", () => {
  const table = parseTable(publishedCsv(), "published.csv");
  const fromC = toRuns(table, "chinchilla", cols({ d: "", c: "C" }));
  const fromD = toRuns(table, "chinchilla", cols({ d: "D" }));
  assert.equal(fromC.length, 60);
  fromC.forEach((r, i) => assert.ok(Math.abs(r.D / fromD[i].D - 1) < 1e-12, `${r.D} vs ${fromD[i].D}`));
  const grid = [[6, 0.3, 6, 0.3, 0.5]];
  const a = fitRuns(fromC, { form: "chinchilla", grid }), b = fitRuns(fromD, { form: "chinchilla", grid });
  for (const k of Object.keys(a.params)) assert.ok(Math.abs(a.params[k] / b.params[k] - 1) < 1e-9, k);
});

Deno.test("--where filters select the rows they say; --drop-top-loss drops the highest losses", () => {
  const table = parseTable(publishedCsv(), "published.csv");
  const big = applyFilters(table, [parseWhere("N>1e7")]);
  assert.equal(big.rows.length, 30);
  assert.ok(big.rows.every((r) => Number(r.N) > 1e7));
  const both = applyFilters(table, [parseWhere("N >= 1e7"), parseWhere("fwd=BF16")]);
  assert.equal(both.rows.length, 20);
  assert.ok(both.rows.every((r) => Number(r.N) >= 1e7 && r.fwd === "BF16"));
  assert.equal(applyFilters(table, [parseWhere("N=100000000")]).rows.length, 10); // numeric equality: 1e8
  assert.equal(applyFilters(table, [parseWhere("fwd != BF16")]).rows.length, 30);
  assert.throws(() => parseWhere("N ~ 3"), /not COLUMN OP VALUE/);
  assert.throws(() => parseWhere("N > big"), /needs a number/);
  assert.throws(() => applyFilters(table, [parseWhere("n>1")]), /no column 'n'.*did you mean 'N'/);
  const runs = toRuns(table, "chinchilla", cols({ d: "D" }));
  const { runs: kept, dropped } = dropTopLoss(runs, 3);
  assert.equal(kept.length, 57);
  assert.ok(Math.min(...dropped.map((r) => r.L)) >= Math.max(...kept.map((r) => r.L)));
});

Deno.test("form names are looked up in a Map: inherited names are not forms", () => {
  for (const n of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
    assert.equal(builtinForm(n), null);
  }
  assert.equal(builtinForm("quest")?.name, "quest");
});

Deno.test("fit CLI: --form required, a typo gets the closest name, wrong-kind columns are one line and exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/published.csv`;
  await Deno.writeTextFile(path, publishedCsv());
  oneLineExit2(await run([path]), /--form is required/);
  oneLineExit2(await run([path, "--form", "quartett"]), /unknown --form "quartett"; did you mean "quartet"/);
  oneLineExit2(await run([path, "--form", "constructor"]), /unknown --form "constructor"/);
  oneLineExit2(await run([path, "--form", "chinchila", "--n-col", "N"]), /did you mean "chinchilla"/);
  const billions = publishedCsv().replace(/^1000000,/m, "0.001,");
  await Deno.writeTextFile(`${dir}/billions.csv`, billions);
  oneLineExit2(
    await run([
      `${dir}/billions.csv`,
      "--form",
      "chinchilla",
      "--n-col",
      "N",
      "--d-col",
      "D",
      "--loss-col",
      "loss",
    ]),
    /parameter count 'N' = 0\.001 is below 1: give raw counts/,
  );
  oneLineExit2(
    await run([
      path,
      "--form",
      "chinchilla",
      "--n-col",
      "N",
      "--c-col",
      "C",
      "--loss-col",
      "loss",
      "--where",
      "M>1",
    ]),
    /no column 'M'.*did you mean .*'N'/,
  );
  oneLineExit2(await run([path, "--form", "chinchilla", "--drop-top-loss=-1"]), /--drop-top-loss must be/);
  oneLineExit2(await run([path, "--form", "./nope.ts"], dir), /form module \.\/nope\.ts does not exist/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("fit CLI: a published CSV as it comes (N, C, loss, labels), filtered, QuEST form, default and --out outputs", async () => {
  const data = await Deno.makeTempDir(), work = await Deno.makeTempDir();
  const path = `${data}/published.csv`;
  await Deno.writeTextFile(path, publishedCsv().replace(/^N,C,D,/, "N,C,Dx,"));
  const args = [
    path,
    "--form",
    "quest",
    "--n-col",
    "N",
    "--c-col",
    "C",
    "--loss-col",
    "loss",
    "--baseline",
    "BF16",
  ];
  const r = await run(
    [...args, "--where", "N>1e6", "--drop-top-loss", "2", "--json", "--no-extrapolation"],
    work,
  );
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.form, "quest");
  assert.equal(j.points, 48); // 50 rows with N > 1e6, minus the 2 highest losses
  assert.deepEqual(Object.keys(j.effN), ["FP8"]);
  assert.ok(Math.abs(j.effN.FP8 / 0.9 - 1) < 0.05, `effN ${j.effN.FP8}`);
  assert.ok(j.notes.some((n: string) => /D = C\/\(6N\) from column 'C'/.test(n)), j.notes.join("\n"));
  assert.ok(j.notes.some((n: string) => /kept 50 of 60 rows/.test(n)), j.notes.join("\n"));
  // Default output: a directory named after the CSV in the working directory, nothing beside the data.
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${work}/published-fit/fit.json`)).params, j.params);
  assert.deepEqual([...Deno.readDirSync(data)].map((e) => e.name), ["published.csv"]);
  const o = await run([...args, "--out", `${work}/elsewhere`, "--no-extrapolation"], work);
  assert.equal(o.code, 0, o.stderr);
  assert.match(o.stdout, /note: D = C\/\(6N\)/);
  assert.ok((await Deno.stat(`${work}/elsewhere/fit.csv`)).isFile);
  await Deno.remove(data, { recursive: true });
  await Deno.remove(work, { recursive: true });
});

Deno.test("fit CLI: a user form module (the README's Kaplan example, no gradient) fits", async () => {
  const dir = await Deno.makeTempDir();
  const lines = ["N,D,loss"];
  for (const N of [1e6, 3e6, 1e7, 3e7, 1e8, 3e8]) {
    for (const r of [5, 20, 80, 320]) {
      lines.push(`${N},${N * r},${((6.4e13 / N) ** (0.076 / 0.103) + 1.8e13 / (N * r)) ** 0.103}`);
    }
  }
  await Deno.writeTextFile(`${dir}/kaplan.csv`, lines.join("\n"));
  const r = await run(
    [
      `${dir}/kaplan.csv`,
      "--form",
      "./lib/fit/examples/kaplan.ts",
      "--n-col",
      "N",
      "--d-col",
      "D",
      "--loss-col",
      "loss",
      "--json",
      "--out",
      dir,
    ],
    root,
  );
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.form, "kaplan");
  const truth: Record<string, number> = { Nc: 6.4e13, alphaN: 0.076, Dc: 1.8e13, alphaD: 0.103 };
  for (const [k, v] of Object.entries(truth)) {
    assert.ok(Math.abs(j.params[k] / v - 1) < 1e-4, `${k} ${j.params[k]}`);
  }
  assert.equal(j.extrapolation.points.length, 4);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("fit CLI: --form isoflop gives {form, params: {a, b, …}, optima, ci} and draws the chart", async () => {
  const dir = await Deno.makeTempDir();
  const lines = ["N,C,loss"];
  for (const C of [1e18, 1e19, 1e20, 1e21]) {
    for (let k = -3; k <= 3; k++) {
      const N = 0.6 * C ** 0.4516 * Math.exp(0.4 * k), D = C / (6 * N);
      lines.push(`${N},${C},${1.69 + 406.4 / N ** 0.34 + 410.7 / D ** 0.28}`);
    }
  }
  await Deno.writeTextFile(`${dir}/iso.csv`, lines.join("\n"));
  const r = await run([
    `${dir}/iso.csv`,
    "--form",
    "isoflop",
    "--c-col",
    "C",
    "--n-col",
    "N",
    "--loss-col",
    "loss",
    "--bootstrap",
    "50",
    "--json",
    "--out",
    `${dir}/out`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.form, "isoflop");
  assert.ok(
    Math.abs(j.params.a - 0.28 / 0.62) < 0.01 && Math.abs(j.params.b - 0.34 / 0.62) < 0.01,
    JSON.stringify(j.params),
  );
  assert.equal(j.optima.length, 4);
  for (const k of ["C", "nStar", "dStar", "loss"]) assert.equal(typeof j.optima[0][k], "number");
  assert.equal(j.ci.samples, 50);
  assert.equal(j.ci.params.a.length, 2);
  for (const f of ["isoflop.json", "isoflop.csv", "isoflop.svg", "isoflop.png", "isoflop.vl.json"]) {
    assert.ok((await Deno.stat(`${dir}/out/${f}`)).size > 0, f);
  }
  await Deno.remove(dir, { recursive: true });
});
