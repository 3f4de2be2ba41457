import assert from "node:assert/strict";
import * as vl from "vega-lite";
import { bopsModel } from "../lib/fit/cost.ts";
import { fitRuns } from "../lib/fit/fit.ts";
import { frontier } from "../lib/fit/frontier.ts";
import { grid } from "../lib/fit/multistart.ts";
import { syntheticRuns } from "../lib/fit/synthetic.ts";
import { chartSpecs } from "../lib/charts/suite.ts";
import { Chart, VEGALITE_MIME } from "../lib/charts/jupyter.ts";
import { toHtml, toSvg } from "../lib/charts/render.ts";
import { JUPYTER_DISPLAY } from "../lib/fit/display.ts";

const fit = fitRuns(syntheticRuns({ noise: 0.005 }), { form: "quartet" });
const fr = frontier(fit, bopsModel("bf16"), { regions: { steps: 12 } });
const specs = chartSpecs(fit, fr);

Deno.test("every chart spec compiles with vega-lite and uses SI labels on log axes", () => {
  assert.deepEqual(Object.keys(specs), [
    "loss_vs_tokens",
    "loss_vs_compute",
    "efficiency",
    "regions",
    "residuals",
  ]);
  for (const [name, spec] of Object.entries(specs)) {
    const out = vl.compile(structuredClone(spec) as never);
    assert.ok(out.spec && Array.isArray(out.spec.marks), name);
    const text = JSON.stringify(spec);
    if (text.includes('"type":"log"')) {
      assert.ok(text.includes('"format":"~s"'), `${name} log axis without ~s`);
    }
  }
});

Deno.test("Chinchilla fits get no efficiency or region chart", () => {
  const small = grid([0, 5, 10], [0.3, 0.6], [0, 5, 10], [0.3, 0.6], [0, 0.5]); // the grid is not under test
  const ch = fitRuns(syntheticRuns({ noise: 0 }), { form: "chinchilla", grid: small });
  const s = chartSpecs(ch, frontier(ch, bopsModel()));
  assert.deepEqual(Object.keys(s), ["loss_vs_tokens", "loss_vs_compute", "residuals"]);
});

Deno.test("SVG has the axis titles as text; HTML is offline and self-contained", async () => {
  const svg = await toSvg(specs.loss_vs_compute);
  assert.match(svg, /^<svg/);
  assert.ok(svg.includes("training compute C"), "x-axis title missing");
  assert.ok(svg.includes("validation loss"), "y-axis title missing");
  const html = await toHtml(specs.residuals, "residuals");
  assert.ok(html.includes("vegaEmbed(") && html.length > 500_000);
  assert.ok(!/<script[^>]+src=/.test(html), "HTML must not load scripts from the network");
  assert.ok(
    !html.slice(html.lastIndexOf("vegaEmbed(")).includes("</script><"),
    "spec JSON must not close the script",
  );
});

Deno.test("Chart and fit display bundles: Vega-Lite + PNG, no text/html in chart bundles", async () => {
  const chart = await Chart.of(specs.efficiency, "efficiency");
  const b = chart[JUPYTER_DISPLAY]();
  assert.deepEqual(Object.keys(b).sort(), [VEGALITE_MIME, "image/png", "text/plain"].sort());
  assert.ok(!("text/html" in b));
  assert.match(String(b["image/png"]), /^iVBORw0KGgo/); // base64 of the PNG signature
  const fb = (fit as unknown as { [JUPYTER_DISPLAY](): Record<string, string> })[JUPYTER_DISPLAY]();
  assert.ok(fb["text/html"].includes("<table>") && fb["text/plain"].includes("effN"));
  assert.ok(!JSON.stringify(fit).includes("Jupyter"), "display method must not leak into JSON");
  const frb = (fr as unknown as { [JUPYTER_DISPLAY](): Record<string, string> })[JUPYTER_DISPLAY]();
  assert.ok(frb["text/markdown"].includes("| scheme |"));
});
