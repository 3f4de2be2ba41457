/**
 * The DiT figures of the closing note: trains one DiT per recipe on MNIST, then reports the validation
 * ε-MSE (1,000 fixed tuples), the Fréchet distance (PCA-64) and the 1-NN class accuracy of 1,000 conditional
 * DDIM samples (50 steps, guidance 4), and writes each model's 10×10 grid.
 *
 *   deno run -A tools/dit_figures.ts [--steps 400 --depth 2 --width 64 --heads 2 --lr 3e-3 --batch 32
 *     --ema 0.999 --weight-decay 0 --schemes bf16,quartet --per-class 100 --ddim-steps 50 --cfg 4
 *     --out results/dit-figures --tag SUFFIX --grid on|off]
 * @module
 */
import { parseArgs } from "node:util";
import { resolveDitConfig } from "../lib/models/dit/config.ts";
import { trainDit } from "../lib/models/dit/train.ts";
import { gpuPredictor } from "../lib/models/dit/gpu_predictor.ts";
import { sampleGridPng, sampleQualityOf } from "../lib/models/dit/sample.ts";
import { schemePair } from "../lib/schemes/catalog.ts";
import { loadDitModel } from "../lib/models/dit/checkpoint.ts";

const HELP = `deno run -A tools/dit_figures.ts [options]

Trains one DiT per recipe on MNIST (patch 4, seed 0) and prints one JSON line per recipe: validation ε-MSE
(1,000 fixed tuples), Fréchet distance (PCA-64) and 1-NN class accuracy of conditional DDIM samples; writes
each checkpoint (EMA weights; the raw weights under raw/) and its 10×10 grid to OUT/RECIPE[TAG].

  --steps N (400)  --depth N (2)  --width N (64)  --heads N (2)  --batch N (32)  --lr X (3e-3)
  --ema D (0.999; 0: none)  --weight-decay W (0)  --schemes a,b (bf16,quartet)
  --per-class N (100)  --ddim-steps N (50)  --cfg S (4)  --out DIR (results/dit-figures)  --tag SUFFIX ("")
  --grid on|off (on)  --help`;

function fail(msg: string): never {
  console.error(`dit_figures: ${msg}`);
  Deno.exit(2);
}

let v;
try {
  v = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      steps: { type: "string", default: "400" },
      depth: { type: "string", default: "2" },
      width: { type: "string", default: "64" },
      heads: { type: "string", default: "2" },
      schemes: { type: "string", default: "bf16,quartet" },
      lr: { type: "string", default: "3e-3" },
      batch: { type: "string", default: "32" },
      "per-class": { type: "string", default: "100" },
      "ddim-steps": { type: "string", default: "50" },
      out: { type: "string", default: "results/dit-figures" },
      ema: { type: "string", default: "0.999" },
      "weight-decay": { type: "string", default: "0" },
      cfg: { type: "string", default: "4" },
      tag: { type: "string", default: "" },
      grid: { type: "string", default: "on" },
      help: { type: "boolean" },
    },
  }).values;
} catch (e) {
  fail((e as Error).message.split("\n")[0]);
}
if (v.help) {
  console.log(HELP);
  Deno.exit(0);
}
for (const k of ["steps", "depth", "width", "heads", "batch", "per-class", "ddim-steps"] as const) {
  const n = Number(v[k]);
  if (!Number.isInteger(n) || n < 1) fail(`--${k} must be a positive integer (got "${v[k]}")`);
}
if (!(Number(v.lr) > 0)) fail(`--lr must be a positive number (got "${v.lr}")`);
if (!(Number(v.ema) >= 0 && Number(v.ema) < 1)) fail(`--ema must be in [0, 1) (got "${v.ema}")`);
if (!(Number(v["weight-decay"]) >= 0)) fail(`--weight-decay must be ≥ 0 (got "${v["weight-decay"]}")`);
if (!(Number(v.cfg) >= 0)) fail(`--cfg must be ≥ 0 (got "${v.cfg}")`);
if (v.grid !== "on" && v.grid !== "off") fail(`--grid must be on or off (got "${v.grid}")`);
const schemes = v.schemes!.split(",").map((n) => [n, schemePair(n)] as const);
for (const [n, s] of schemes) if (!s) fail(`unknown scheme "${n}" (deno task schemes lists them)`);
let model;
try {
  model = resolveDitConfig({ depth: +v.depth!, hidden: +v.width!, heads: +v.heads!, patch: 4 });
} catch (e) {
  fail((e as Error).message);
}
const ddim = +v["ddim-steps"]!;
for (const [name, s] of schemes) {
  const scheme = s!;
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
    weightDecay: +v["weight-decay"]!,
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
    weightDecay: tc.weightDecay,
    cfg: +v.cfg!,
    valLoss: r.finalValLoss,
    rawValLoss: r.rawValLoss,
    trainLoss: r.finalTrainLoss,
    quality: q,
    trainSeconds: trainS,
    sampleSeconds: (performance.now() - t1) / 1000,
  }));
}
