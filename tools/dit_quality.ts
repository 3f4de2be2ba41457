/**
 * Sample quality of a DiT checkpoint: Fréchet distance (PCA-64) and 1-NN class accuracy of `perClass`
 * conditional DDIM samples per class (lib/models/dit/quality.ts), optionally with the 10×N grid; the
 * sampler's settings are flags so that they can be compared on one checkpoint.
 *
 *   deno run -A tools/dit_quality.ts --checkpoint DIR [--per-class 50 --ddim-steps 50 --cfg 4 --clip on|off
 *     --seed 2 --grid FILE.png]
 * @module
 */
import { parseArgs } from "node:util";
import { ditScheme, loadDitModel } from "../lib/models/dit/checkpoint.ts";
import { gpuPredictor } from "../lib/models/dit/gpu_predictor.ts";
import { sampleGridPng, sampleQualityOf } from "../lib/models/dit/sample.ts";
import { writeFileAtomic } from "../lib/engine/checkpoint.ts";

const HELP = `deno run -A tools/dit_quality.ts --checkpoint DIR [options]

Fréchet distance (PCA-64) and 1-NN class accuracy of conditional DDIM samples of a DiT checkpoint
(one JSON line on stdout).

  --checkpoint DIR   DiT checkpoint (config.json + model.safetensors)
  --per-class N      samples per class, 1..1000 (50)
  --ddim-steps N     DDIM steps, 1..1000 (50)
  --cfg S            classifier-free guidance scale ≥ 0 (4)
  --clip on|off      clip each step's x₀ prediction to [−1, 1] (on)
  --eta E            DDIM stochasticity in [0, 1]: 0 deterministic, 1 DDPM-like (0)
  --seed S           seed of the initial noise (2)
  --grid FILE        also write a 10×10 grid (seed 1) as PNG
  --help             this text`;

function fail(msg: string): never {
  console.error(`dit_quality: ${msg}`);
  Deno.exit(2);
}

let v;
try {
  v = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      checkpoint: { type: "string" },
      "per-class": { type: "string", default: "50" },
      "ddim-steps": { type: "string", default: "50" },
      cfg: { type: "string", default: "4" },
      clip: { type: "string", default: "on" },
      eta: { type: "string", default: "0" },
      seed: { type: "string", default: "2" },
      grid: { type: "string" },
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
const int = (k: string, lo: number, hi: number): number => {
  const n = Number((v as Record<string, unknown>)[k]);
  if (!Number.isInteger(n) || n < lo || n > hi) fail(`--${k} must be an integer in ${lo}..${hi}`);
  return n;
};
if (v.checkpoint === undefined) fail("--checkpoint DIR is required (see --help)");
const perClass = int("per-class", 1, 1000),
  steps = int("ddim-steps", 1, 1000),
  seed = int("seed", 0, 2 ** 32 - 1);
const cfg = Number(v.cfg);
if (!(cfg >= 0) || !Number.isFinite(cfg)) fail(`--cfg must be a number ≥ 0 (got "${v.cfg}")`);
if (v.clip !== "on" && v.clip !== "off") fail(`--clip must be on or off (got "${v.clip}")`);
const clip = v.clip === "on";
const eta = Number(v.eta);
if (!(eta >= 0 && eta <= 1)) fail(`--eta must be a number in [0, 1] (got "${v.eta}")`);
let ck;
try {
  ck = loadDitModel(v.checkpoint);
} catch (e) {
  fail((e as Error).message.split("\n")[0]);
}
const predict = await gpuPredictor(ck.cfg, ck.params, ditScheme(v.checkpoint), { batch: 256 });
const t0 = performance.now();
if (v.grid !== undefined) {
  const png = await sampleGridPng(ck.cfg, predict, {
    perClass: 10,
    steps,
    cfg,
    seed: 1,
    maxBatch: 256,
    clip,
    eta,
  });
  writeFileAtomic(v.grid, png);
}
const q = await sampleQualityOf(ck.cfg, predict, { perClass, steps, cfg, seed, maxBatch: 256, clip, eta });
console.log(JSON.stringify({
  checkpoint: v.checkpoint,
  perClass,
  ddimSteps: steps,
  cfg,
  clip,
  eta,
  seed,
  quality: q,
  seconds: (performance.now() - t0) / 1000,
}));
