import assert from "node:assert/strict";
import { writeSyntheticResults } from "../lib/fit/synthetic.ts";
import { runScript } from "./fixtures/cli.ts";

const cli = new URL("../cli/plot.ts", import.meta.url).pathname;

const run = (...args: string[]) => runScript(cli, ...args);

Deno.test("plot CLI writes SVG, PNG, HTML and spec for every chart under <results>/charts", async () => {
  const dir = await Deno.makeTempDir();
  await writeSyntheticResults(dir);
  const r = await run(dir, "--bootstrap", "3");
  assert.equal(r.code, 0, r.stderr);
  for (const name of ["loss_vs_tokens", "loss_vs_compute", "efficiency", "regions", "residuals"]) {
    for (const ext of ["svg", "png", "html", "vl.json"]) {
      const st = await Deno.stat(`${dir}/charts/${name}.${ext}`);
      assert.ok(st.size > 1000, `${name}.${ext} too small`);
    }
    const spec = JSON.parse(await Deno.readTextFile(`${dir}/charts/${name}.vl.json`));
    assert.match(JSON.stringify(spec.title), /SYNTHETIC DATA/, `${name} must be labelled synthetic`);
  }
  const fit = JSON.parse(await Deno.readTextFile(`${dir}/charts/fit.json`));
  assert.equal(fit.form, "quartet");
  assert.equal(fit.ci.samples, 3);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("plot CLI: unknown experiment is one line on stderr and exit 2", async () => {
  const r = await run("no-such-experiment-xyz");
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /no results for 'no-such-experiment-xyz'/);
});
