/**
 * The DiT figures of the closing note: trains one DiT per recipe on MNIST, then reports the validation
 * ε-MSE (1,000 fixed tuples), the Fréchet distance (PCA-64) and the 1-NN class accuracy of 1,000 conditional
 * DDIM samples (50 steps, guidance 4), and writes each model's 10×10 grid.
 *
 *   deno run -A tools/dit_figures.ts [--steps 400 --depth 2 --width 64 --heads 2 --lr 1e-3 --batch 32
 *     --schemes bf16,quartet --per-class 100 --ddim-steps 50 --out results/dit-figures]
 * @module
 */
import { parseArgs } from "node:util";
import { resolveDitConfig } from "../lib/models/dit/config.ts";
import { trainDit } from "../lib/models/dit/train.ts";
import { gpuPredictor } from "../lib/models/dit/gpu_predictor.ts";
import { sampleGridPng, sampleQualityOf } from "../lib/models/dit/sample.ts";
import { schemePair } from "../lib/schemes/catalog.ts";
import { loadDitModel } from "../lib/models/dit/checkpoint.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    steps: { type: "string", default: "400" },
    depth: { type: "string", default: "2" },
    width: { type: "string", default: "64" },
    heads: { type: "string", default: "2" },
    schemes: { type: "string", default: "bf16,quartet" },
    lr: { type: "string", default: "1e-3" },
    batch: { type: "string", default: "32" },
    "per-class": { type: "string", default: "100" },
    "ddim-steps": { type: "string", default: "50" },
    out: { type: "string", default: "results/dit-figures" },
    ema: { type: "string", default: "0" },
    "weight-decay": { type: "string" },
    cfg: { type: "string", default: "4" },
    tag: { type: "string", default: "" },
    grid: { type: "string", default: "on" },
  },
});
const model = resolveDitConfig({ depth: +v.depth!, hidden: +v.width!, heads: +v.heads!, patch: 4 });
const ddim = +v["ddim-steps"]!;
for (const name of v.schemes!.split(",")) {
  const scheme = schemePair(name)!;
  const dir = `${v.out}/${name}${v.tag}`;
  const t0 = performance.now();
  const tc = {
    model,
    batch: +v.batch!,
    steps: +v.steps!,
    lr: +v.lr!,
    seed: 0,
    scheme,
    evalImages: 1000,
    ema: +v.ema!,
    ...(v["weight-decay"] !== undefined ? { weightDecay: +v["weight-decay"] } : {}),
  };
  const r = await trainDit(tc, {
    outDir: dir,
    ...(+v.ema! > 0 ? { rawOutDir: `${dir}/raw` } : {}),
    onStep: (s, loss) => {
      const at = ((performance.now() - t0) / 1000).toFixed(0);
      if (s % 100 === 0) console.error(`${name} step ${s} loss ${loss.toFixed(4)} ${at} s`);
    },
  });
  const trainS = (performance.now() - t0) / 1000;
  const { params } = loadDitModel(dir);
  const predict = await gpuPredictor(model, params, scheme, { batch: 256 });
  const t1 = performance.now();
  const grid = { perClass: 10, steps: ddim, cfg: +v.cfg!, seed: 1, maxBatch: 256 };
  if (v.grid !== "off") Deno.writeFileSync(`${dir}/grid.png`, await sampleGridPng(model, predict, grid));
  const q = await sampleQualityOf(model, predict, {
    perClass: +v["per-class"]!,
    steps: ddim,
    cfg: +v.cfg!,
    seed: 2,
    maxBatch: 256,
  });
  console.log(JSON.stringify({
    scheme: name,
    steps: +v.steps!,
    lr: +v.lr!,
    batch: +v.batch!,
    ddimSteps: ddim,
    perClass: +v["per-class"]!,
    model: { depth: model.depth, width: model.hidden, heads: model.heads, patch: model.patch },
    ema: tc.ema,
    weightDecay: tc.weightDecay ?? 0.1,
    cfg: +v.cfg!,
    valLoss: r.finalValLoss,
    rawValLoss: r.rawValLoss,
    trainLoss: r.finalTrainLoss,
    quality: q,
    trainSeconds: trainS,
    sampleSeconds: (performance.now() - t1) / 1000,
  }));
}
