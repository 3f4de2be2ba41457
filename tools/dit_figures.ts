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
import { numberFlag, toolArgs } from "../lib/cli/args.ts";
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

const a = toolArgs("dit_figures", HELP, Deno.args, {
  steps: "400",
  depth: "2",
  width: "64",
  heads: "2",
  schemes: "bf16,quartet",
  lr: "3e-3",
  batch: "32",
  "per-class": "100",
  "ddim-steps": "50",
  out: "results/dit-figures",
  ema: "0.999",
  "weight-decay": "0",
  cfg: "4",
  tag: "",
  grid: "on",
}, (v) => {
  const count = (k: string) => numberFlag(k, v[k]!, { integer: true, min: 1 });
  const lr = numberFlag("lr", v.lr!), ema = numberFlag("ema", v.ema!, { min: 0 });
  if (!(lr > 0)) throw new Error(`--lr must be a positive number (got "${v.lr}")`);
  if (!(ema < 1)) throw new Error(`--ema must be in [0, 1) (got "${v.ema}")`);
  if (v.grid !== "on" && v.grid !== "off") throw new Error(`--grid must be on or off (got "${v.grid}")`);
  const schemes = v.schemes!.split(",").map((n) => {
    const s = schemePair(n);
    if (!s) throw new Error(`unknown scheme "${n}" (deno task schemes lists them)`);
    return [n, s] as const;
  });
  return {
    steps: count("steps"),
    batch: count("batch"),
    perClass: count("per-class"),
    ddim: count("ddim-steps"),
    model: resolveDitConfig({ depth: count("depth"), hidden: count("width"), heads: count("heads"), patch: 4 }),
    lr,
    ema,
    weightDecay: numberFlag("weight-decay", v["weight-decay"]!, { min: 0 }),
    cfg: numberFlag("cfg", v.cfg!, { min: 0 }),
    schemes,
    out: v.out!,
    tag: v.tag!,
    grid: v.grid === "on",
  };
});
const { model, ddim } = a;
for (const [name, scheme] of a.schemes) {
  const dir = `${a.out}/${name}${a.tag}`;
  const t0 = performance.now();
  const tc = {
    model,
    batch: a.batch,
    steps: a.steps,
    lr: a.lr,
    seed: 0,
    scheme,
    evalImages: 1000,
    ema: a.ema,
    weightDecay: a.weightDecay,
  };
  const r = await trainDit(tc, {
    outDir: dir,
    ...(a.ema > 0 ? { rawOutDir: `${dir}/raw` } : {}),
    onStep: (s, loss) => {
      const at = ((performance.now() - t0) / 1000).toFixed(0);
      if (s % 100 === 0) console.error(`${name} step ${s} loss ${loss.toFixed(4)} ${at} s`);
    },
  });
  const trainS = (performance.now() - t0) / 1000;
  const { params } = loadDitModel(dir);
  const predict = await gpuPredictor(model, params, scheme, { batch: 256 });
  const t1 = performance.now();
  const grid = { perClass: 10, steps: ddim, cfg: a.cfg, seed: 1, maxBatch: 256 };
  if (a.grid) Deno.writeFileSync(`${dir}/grid.png`, await sampleGridPng(model, predict, grid));
  const q = await sampleQualityOf(model, predict, {
    perClass: a.perClass,
    steps: ddim,
    cfg: a.cfg,
    seed: 2,
    maxBatch: 256,
  });
  console.log(JSON.stringify({
    scheme: name,
    steps: a.steps,
    lr: a.lr,
    batch: a.batch,
    ddimSteps: ddim,
    perClass: a.perClass,
    model: { depth: model.depth, width: model.hidden, heads: model.heads, patch: model.patch },
    ema: tc.ema,
    weightDecay: tc.weightDecay,
    cfg: a.cfg,
    valLoss: r.finalValLoss,
    rawValLoss: r.rawValLoss,
    trainLoss: r.finalTrainLoss,
    quality: q,
    trainSeconds: trainS,
    sampleSeconds: (performance.now() - t1) / 1000,
  }));
}
