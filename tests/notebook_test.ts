import assert from "node:assert/strict";
import { VEGALITE_MIME } from "../lib/charts/jupyter.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const hasJupyter =
  (await new Deno.Command("sh", { args: ["-c", "command -v jupyter-nbconvert"], stdout: "null" }).output())
    .success;
if (!hasJupyter) {
  console.log(
    "notebook_test: SKIPPED, jupyter-nbconvert not found " +
      "(install: apt-get install -y --no-install-recommends jupyter-nbconvert python3-nbclient jupyter-client)",
  );
}

type Output = { output_type: string; data?: Record<string, unknown>; ename?: string; evalue?: string };

Deno.test({
  name:
    "notebooks/quartet.ipynb executes headless with the repo's Deno kernelspec; every chart has Vega-Lite + PNG",
  ignore: !hasJupyter,
  async fn() {
    const out = await Deno.makeTempDir();
    const denoDir = Deno.execPath().replace(/\/[^/]+$/, "");
    const r = await new Deno.Command("jupyter", {
      args: [
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--ExecutePreprocessor.timeout=300",
        "notebooks/quartet.ipynb",
        "--output-dir",
        out,
        "--output",
        "quartet.ipynb",
      ],
      cwd: root,
      env: { PATH: `${denoDir}:${Deno.env.get("PATH")}`, JUPYTER_PATH: `${root}/jupyter`, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, log.slice(-3000));
    const nb = JSON.parse(await Deno.readTextFile(`${out}/quartet.ipynb`));
    assert.equal(nb.metadata.kernelspec.name, "deno-fp4");
    const outputs: Output[] = nb.cells.flatMap((c: { outputs?: Output[] }) => c.outputs ?? []);
    const errors = outputs.filter((o) => o.output_type === "error");
    assert.equal(errors.length, 0, errors.map((e) => `${e.ename}: ${e.evalue}`).join("\n"));
    const charts = outputs.filter((o) => o.data && VEGALITE_MIME in o.data);
    assert.equal(charts.length, 6, "six charts expected");
    for (const c of charts) {
      assert.ok(String(c.data!["image/png"]).startsWith("iVBORw0KGgo"), "PNG fallback missing");
      assert.ok(!("text/html" in c.data!), "chart bundles must not carry text/html");
    }
    const tables = outputs.filter((o) => String(o.data?.["text/html"] ?? "").includes("<table>"));
    assert.ok(
      tables.length >= 4,
      `runs, Quartet fit, Chinchilla fit and frontier tables expected, got ${tables.length}`,
    );
    // Measured data (the user's demo run, else the committed reference run) is never labelled synthetic.
    const text = JSON.stringify(outputs);
    assert.ok(!text.includes("SYNTHETIC DATA"), "the notebook must show the measured demo results");
    assert.ok(text.includes("results/"), "the notebook names the results directory it loaded");
    await Deno.remove(out, { recursive: true });
  },
});
