import assert from "node:assert/strict";
import { ptqChartOf, ptqDeltaSpec, ptqPoints } from "../lib/charts/ptq.ts";
import { toSvg } from "../lib/charts/render.ts";

const PTQ = `run_id,recipe,w_bits,a_bits,loss_before,loss_after,delta,seconds,params,tokens
a,fpq,4,4,2.0,2.1,0.1,1,999,999
a,fpq,4,8,2.0,2.01,0.01,1,999,999
b,fpq,4,4,2.0,2.2,0.2,1,2000,8000
b,hqdit,4,8,2.0,1.9999,-0.0001,1,2000,8000
`;
const RUNS = `run_id,status,non_embedding_params,tokens
a,finished,1000,4000
`;

Deno.test("ptq chart: ptq.csv joined with runs.csv (N, D from the run), δ ≤ 0 counted but not drawn", async () => {
  const pts = ptqPoints(PTQ, RUNS);
  assert.equal(pts.length, 4);
  assert.deepEqual([pts[0].N, pts[0].D, pts[0].bits], [1000, 4000, "W4A4"]); // from runs.csv
  assert.deepEqual([pts[2].N, pts[2].D], [2000, 8000]); // run b is not in runs.csv: ptq.csv's own columns
  const spec = ptqDeltaSpec(pts);
  const values = (spec.data as { values: { dn: number; recipe: string }[] }).values;
  assert.equal(values.length, 3);
  assert.deepEqual(values.map((v) => v.dn), [4, 4, 4]);
  assert.match(JSON.stringify(spec.title), /1 job with δ ≤ 0 not drawn/);
  assert.deepEqual((spec.facet as { sort: string[] }).sort, ["fpq", "hqdit"]);
  const svg = await toSvg(spec); // a real Vega-Lite compile and Vega render
  assert.match(svg, /^<svg/);
  assert.match(svg, /D \/ N/);
  // an experiment directory without ptq.csv has no PTQ chart
  assert.equal(await ptqChartOf(Deno.makeTempDirSync()), null);
});
