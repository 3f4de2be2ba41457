import assert from "node:assert/strict";
import { writeSyntheticResults } from "../lib/fit/synthetic.ts";
import { runScript } from "./fixtures/cli.ts";

const cli = new URL("../cli/fit.ts", import.meta.url).pathname;

const run = (...args: string[]) => runScript(cli, ...args);

async function csv(text: string) {
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  await Deno.writeTextFile(path, text);
  return path;
}

function oneLineExit2(r: { code: number; stderr: string }, pattern: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
}

Deno.test("fit CLI: quartet --json on a results directory; writes fit.json and fit.csv there", async () => {
  const dir = await Deno.makeTempDir();
  await writeSyntheticResults(dir, { noise: 0 });
  const r = await run(dir, "--form", "quartet", "--json", "--bootstrap", "5");
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.form, "quartet");
  assert.deepEqual(Object.keys(j.params).sort(), ["A", "B", "E", "alpha", "beta", "gamma"]);
  assert.ok(Math.abs(j.effN.quest / 0.65 - 1) < 1e-4 && Math.abs(j.effD.sr / 0.9 - 1) < 1e-4);
  assert.equal(j.points, 125); // the diverged run is not fitted
  assert.ok(typeof j.objective === "number" && j.ci.samples === 5 && j.ci.effN.quest.length === 2);
  assert.deepEqual(j.warnings, []); // noise-free data on a good grid: nothing to warn about
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/fit.json`)).params, j.params);
  const lines = (await Deno.readTextFile(`${dir}/fit.csv`)).trim().split("\n");
  assert.equal(lines.length, 126);
  const g = await run(dir, "--form", "quartet", "--json", "--fix", "gamma=1", "--no-extrapolation");
  assert.equal(g.code, 0, g.stderr);
  const jg = JSON.parse(g.stdout);
  assert.equal(jg.params.gamma, 1);
  assert.deepEqual(jg.fixed, { gamma: 1 });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("fit CLI: bad input is one line on stderr and exit 2", async () => {
  const ok = "n,d,loss\n" + [1, 2, 3, 4, 5, 6].map((k) => `${k}e6,${k}e8,${3 - 0.1 * k}`).join("\n");
  oneLineExit2(
    await run(await csv(ok), "--form", "chinchilla", "--n-col", "params"),
    /column 'params' not found/,
  );
  oneLineExit2(
    await run(
      await csv(ok.replace("2.9", "-2.9")),
      "--form",
      "chinchilla",
      "--n-col",
      "n",
      "--d-col",
      "d",
      "--loss-col",
      "loss",
    ),
    /loss 'loss' must be a positive number/,
  );
  oneLineExit2(
    await run(
      await csv(ok.split("\n").slice(0, 4).join("\n")),
      "--form",
      "chinchilla",
      "--n-col",
      "n",
      "--d-col",
      "d",
      "--loss-col",
      "loss",
    ),
    /5 parameters but only 3 runs/,
  );
  const labelled = "n,d,loss,fwd,bwd\n" + [1, 2, 3, 4, 5, 6].map((k) => `${k}e6,${k}e8,3,fp8,fp8`).join("\n");
  oneLineExit2(
    await run(await csv(labelled), "--form", "quartet", "--n-col", "n", "--d-col", "d", "--loss-col", "loss"),
    /no baseline runs \(fwd = bwd = 'bf16'\).*fp8:fp8/,
  );
  oneLineExit2(await run("/nonexistent/dir", "--form", "quartet"), /does not exist/);
  const ncols = ["--n-col", "n", "--d-col", "d", "--loss-col", "loss"];
  oneLineExit2(
    await run(await csv(ok), "--form", "chinchilla", ...ncols, "--fix", "gamma"),
    /--fix takes NAME=VALUE/,
  );
  oneLineExit2(
    await run(await csv(ok), "--form", "chinchilla", ...ncols, "--fix", "gamma=1"),
    /cannot fix "gamma": the chinchilla form's base parameters are a, alpha, b, beta, e/,
  );
  oneLineExit2(await run(await csv(ok), "--form", "cubic"), /unknown --form/);
  oneLineExit2(await run(await csv(ok), "--frm", "chinchilla"), /Unknown option '--frm'/);
  oneLineExit2(await run(await csv(ok), "--form", "chinchilla", "--delta=-1"), /--delta/);
});
