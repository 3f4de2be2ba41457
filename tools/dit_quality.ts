/**
 * Sample quality of a DiT checkpoint: Fréchet distance (PCA-64) and 1-NN class accuracy of `perClass`
 * conditional DDIM samples per class (lib/models/dit/quality.ts), optionally with the 10×N grid; the
 * sampler's settings are flags so that they can be compared on one checkpoint.
 *
 *   deno run -A tools/dit_quality.ts --checkpoint DIR [--per-class 50 --ddim-steps 50 --cfg 4 --clip on|off
 *     --seed 2 --grid FILE.png]
 * @module
 */
import { numberFlag, toolArgs } from "../lib/cli/args.ts";
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

const a = toolArgs("dit_quality", HELP, Deno.args, {
  checkpoint: undefined,
  "per-class": "50",
  "ddim-steps": "50",
  cfg: "4",
  clip: "on",
  eta: "0",
  seed: "2",
  grid: undefined,
}, (v) => {
  const int = (k: string, min: number, max: number) => numberFlag(k, v[k]!, { integer: true, min, max });
  const checkpoint = v.checkpoint;
  if (checkpoint === undefined) throw new Error("--checkpoint DIR is required (see --help)");
  const flags = {
    perClass: int("per-class", 1, 1000),
    steps: int("ddim-steps", 1, 1000),
    seed: int("seed", 0, 2 ** 32 - 1),
    cfg: numberFlag("cfg", v.cfg!, { min: 0 }),
    clip: v.clip === "on",
    eta: numberFlag("eta", v.eta!, { min: 0, max: 1 }),
    grid: v.grid,
  };
  if (v.clip !== "on" && v.clip !== "off") throw new Error(`--clip must be on or off (got "${v.clip}")`);
  return { ...flags, checkpoint, ck: loadDitModel(checkpoint), scheme: ditScheme(checkpoint) };
});
const { ck, perClass, steps, seed, cfg, clip, eta } = a;
const predict = await gpuPredictor(ck.cfg, ck.params, a.scheme, { batch: 256 });
const t0 = performance.now();
if (a.grid !== undefined) {
  const png = await sampleGridPng(ck.cfg, predict, {
    perClass: 10,
    steps,
    cfg,
    seed: 1,
    maxBatch: 256,
    clip,
    eta,
  });
  writeFileAtomic(a.grid, png);
}
const q = await sampleQualityOf(ck.cfg, predict, { perClass, steps, cfg, seed, maxBatch: 256, clip, eta });
console.log(JSON.stringify({
  checkpoint: a.checkpoint,
  perClass,
  ddimSteps: steps,
  cfg,
  clip,
  eta,
  seed,
  quality: q,
  seconds: (performance.now() - t0) / 1000,
}));
