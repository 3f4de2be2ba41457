/**
 * Where a DiT checkpoint's validation loss comes from: ε-MSE and clipped x₀-MSE per band of 100 timesteps
 * over the standard 1,000 validation tuples, with the label and with the null class, next to the x₀-MSE of
 * the mean training image. The mean ε-MSE is dominated by low t; the samples' shapes are decided at high t,
 * where x₀ error = ε error · √((1−ᾱ)/ᾱ) — so a model can have a good mean loss and still draw blobs.
 *
 *   deno run -A tools/dit_per_t.ts --checkpoint DIR [--json]
 * @module
 */
import { parseArgs } from "node:util";
import { ditScheme, loadDitModel } from "../lib/models/dit/checkpoint.ts";
import { gpuPredictor, gpuUnsupported } from "../lib/models/dit/gpu_predictor.ts";
import { referencePredictor } from "../lib/models/dit/sample.ts";
import { mnistValidationInputs } from "../lib/models/dit/evaluate.ts";
import { ddpmSchedule, evalInputsFrom } from "../lib/models/dit/diffusion.ts";
import { loadMnist } from "../lib/data/mnist.ts";

let v;
try {
  v = parseArgs({
    args: Deno.args,
    options: {
      checkpoint: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  }).values;
} catch (e) {
  console.error(`dit_per_t: ${(e as Error).message.split("\n")[0]}`);
  Deno.exit(2);
}
if (v.help) {
  console.log("usage: deno run -A tools/dit_per_t.ts --checkpoint DIR [--json]");
  Deno.exit(0);
}
if (!v.checkpoint) {
  console.error("dit_per_t: --checkpoint DIR is required");
  Deno.exit(2);
}
const dir = v.checkpoint;
let loaded;
try {
  loaded = loadDitModel(dir);
} catch (e) {
  console.error(`dit_per_t: ${(e as Error).message}`);
  Deno.exit(2);
}
const { cfg, params } = loaded;
const predict = gpuUnsupported(cfg)
  ? referencePredictor(cfg, params)
  : await gpuPredictor(cfg, params, ditScheme(dir), { batch: 200 });
const inp = mnistValidationInputs();
const { x, t, y, target } = evalInputsFrom(inp);
const n = inp.batch, per = x.length / n;
const eC = await predict(x, t, y);
const eN = await predict(x, t, new Int32Array(n).fill(cfg.numClasses));
const ac = ddpmSchedule().alphasCumprod;
const train = loadMnist().train, mean = new Float64Array(per);
for (let i = 0; i < train.images.length; i++) mean[i % per] += train.images[i] / train.count;
let meanMse = 0, guide = 0;
const bands = Array.from(
  { length: 10 },
  (_, k) => ({ t: `${k * 100}-${k * 100 + 99}`, n: 0, eps: 0, epsNull: 0, x0: 0 }),
);
for (let b = 0; b < n; b++) {
  const band = bands[Math.min(9, Math.floor(t[b] / 100))], a = ac[t[b]];
  let e = 0, en = 0, x0 = 0;
  for (let i = b * per; i < (b + 1) * per; i++) {
    e += (eC[i] - target[i]) ** 2, en += (eN[i] - target[i]) ** 2, guide += (eC[i] - eN[i]) ** 2;
    const x0h = Math.max(-1, Math.min(1, (x[i] - Math.sqrt(1 - a) * eC[i]) / Math.sqrt(a)));
    x0 += (x0h - inp.x0[i]) ** 2, meanMse += (mean[i - b * per] - inp.x0[i]) ** 2;
  }
  band.n++, band.eps += e / per, band.epsNull += en / per, band.x0 += x0 / per;
}
const rows = bands.map((r) => ({
  t: r.t,
  epsMse: r.eps / r.n,
  epsMseNull: r.epsNull / r.n,
  x0Mse: r.x0 / r.n,
}));
const out = {
  valLoss: rows.reduce((s, r, k) => s + r.epsMse * bands[k].n, 0) / n,
  meanImageX0Mse: meanMse / (n * per),
  rmsGuidanceSignal: Math.sqrt(guide / (n * per)),
  bands: rows,
};
if (v.json) console.log(JSON.stringify(out));
else {
  console.log(
    `validation ε-MSE ${out.valLoss.toFixed(4)}; mean-image x₀-MSE ${out.meanImageX0Mse.toFixed(4)}; ` +
      `rms(ε̂(y) − ε̂(∅)) ${out.rmsGuidanceSignal.toFixed(4)}`,
  );
  console.log("t          ε-MSE    ε-MSE(∅)  x₀-MSE (clipped)");
  for (const r of rows) {
    console.log(
      `${r.t.padEnd(10)} ${r.epsMse.toFixed(4)}   ${r.epsMseNull.toFixed(4)}    ${r.x0Mse.toFixed(4)}`,
    );
  }
}
Deno.exit(0);
