/**
 * `deno task sample --checkpoint DIR --out grid.png [--steps 50] [--cfg 4] [--seed S] [--per-class 10]
 *   [--scale 2] [--json]`: draws a grid of digits from a DiT checkpoint with DDIM and classifier-free
 * guidance, one row per class (row r = digit r), and writes it as a greyscale PNG (atomically).
 *
 * The ε predictor is injected ({@link runSample}'s `makePredictor`); the default is the float64 TypeScript
 * reference DiT, which is exact but slow (a 10×10 grid of a width-128, depth-4 model takes minutes on
 * CPU) — the GPU model plugs in with the same `(x, t, y) => ε̂` signature.
 * Errors (bad arguments, missing or corrupt checkpoint): one line `sample: …`, exit code 2.
 * @module
 */
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../lib/engine/checkpoint.ts";
import type { DitConfig } from "../lib/models/dit/config.ts";
import { ditScheme, loadDitModel } from "../lib/models/dit/checkpoint.ts";
import type { EpsPredictor } from "../lib/models/dit/diffusion.ts";
import { referencePredictor, sampleGridPng } from "../lib/models/dit/sample.ts";
import { gpuPredictor, gpuUnsupported } from "../lib/models/dit/gpu_predictor.ts";
import { readPtqConfig } from "../lib/ptq/checkpoint.ts";
import { quantizedDitPredictor } from "../lib/ptq/dit_eval.ts";

const HELP = `deno task sample --checkpoint DIR --out grid.png [options]

Draws one row of DDIM samples per class from a DiT checkpoint and writes a greyscale PNG grid.

  --checkpoint DIR   DiT checkpoint (config.json + model.safetensors)
  --out FILE         PNG to write
  --steps N          DDIM steps, 1..1000 (50)
  --cfg S            classifier-free guidance scale ≥ 0; 1 = conditional only (4)
  --seed S           seed of the initial noise, integer (0)
  --eta E            DDIM stochasticity in [0, 1]: 0 deterministic DDIM, 1 DDPM-like (0)
  --per-class N      samples per class = grid columns, 1..100 (10)
  --scale K          integer upscaling of the picture, 1..8 (2)
  --json             print a JSON summary
  --help             this text`;

/** Parsed options of the sample task. */
export interface SampleArgs {
  /** Checkpoint directory. */
  checkpoint: string;
  /** Output PNG path. */
  out: string;
  /** DDIM steps. */
  steps: number;
  /** Guidance scale. */
  cfg: number;
  /** Noise seed. */
  seed: number;
  /** DDIM stochasticity η in [0, 1]. */
  eta: number;
  /** Columns per class row. */
  perClass: number;
  /** Upscaling. */
  scale: number;
  /** JSON summary. */
  json: boolean;
}

/** Parses and validates arguments; throws one line; returns null for --help. */
export function parseSampleArgs(args: string[]): SampleArgs | null {
  let v;
  try {
    v = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        checkpoint: { type: "string" },
        out: { type: "string" },
        steps: { type: "string", default: "50" },
        cfg: { type: "string", default: "4" },
        seed: { type: "string", default: "0" },
        eta: { type: "string", default: "0" },
        "per-class": { type: "string", default: "10" },
        scale: { type: "string", default: "2" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (e) {
    throw new Error((e as Error).message.split("\n")[0]);
  }
  if (v.help) return null;
  if (!v.checkpoint || !v.out) throw new Error("--checkpoint DIR and --out FILE are required (see --help)");
  const int = (name: string, s: string, lo: number, hi: number) => {
    const n = Number(s);
    if (!/^[+-]?\d+$/.test(s.trim()) || n < lo || n > hi) {
      throw new Error(`--${name} must be an integer in ${lo}..${hi} (got "${s}")`);
    }
    return n;
  };
  const cfg = Number(v.cfg);
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(v.cfg!) || !(cfg >= 0)) {
    throw new Error(`--cfg must be a number ≥ 0 (got "${v.cfg}")`);
  }
  const eta = Number(v.eta);
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(v.eta!) || !(eta >= 0 && eta <= 1)) {
    throw new Error(`--eta must be a number in [0, 1] (got "${v.eta}")`);
  }
  return {
    checkpoint: v.checkpoint,
    out: v.out,
    steps: int("steps", v.steps!, 1, 1000),
    cfg,
    seed: int("seed", v.seed!, 0, 2 ** 32 - 1),
    eta,
    perClass: int("per-class", v["per-class"]!, 1, 100),
    scale: int("scale", v.scale!, 1, 8),
    json: v.json!,
  };
}

/** Makes the ε predictor of a loaded model. */
export type PredictorFactory = (cfg: DitConfig, params: Float32Array) => EpsPredictor | Promise<EpsPredictor>;

/** Runs the task: loads the checkpoint, samples, writes the PNG; returns the summary. */
export async function runSample(
  a: SampleArgs,
  makePredictor: PredictorFactory = referencePredictor,
  predictorName = "reference (float64 TypeScript)",
): Promise<Record<string, unknown>> {
  const { cfg, params } = loadDitModel(a.checkpoint);
  const t0 = performance.now();
  const png = await sampleGridPng(cfg, await makePredictor(cfg, params), {
    perClass: a.perClass,
    steps: a.steps,
    cfg: a.cfg,
    seed: a.seed,
    eta: a.eta,
    scale: a.scale,
  });
  try {
    writeFileAtomic(a.out, png);
  } catch (e) {
    throw new Error(`cannot write ${a.out}: ${(e as Error).message}`);
  }
  return {
    out: a.out,
    checkpoint: a.checkpoint,
    rows: cfg.numClasses,
    cols: a.perClass,
    steps: a.steps,
    cfg: a.cfg,
    seed: a.seed,
    eta: a.eta,
    predictor: predictorName,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
  };
}

if (import.meta.main) {
  try {
    const a = parseSampleArgs(Deno.args);
    if (!a) {
      console.log(HELP);
      Deno.exit(0);
    }
    // the GPU model when its tiles fit the shape, else the float64 reference (exact, slow); a PTQ checkpoint
    // (deno task ptq) runs on the CPU with its activation quantizers (lib/ptq)
    const scheme = ditScheme(a.checkpoint), why = gpuUnsupported(loadDitModel(a.checkpoint).cfg);
    const ptq = readPtqConfig(a.checkpoint);
    const r = ptq
      ? await runSample(
        a,
        (c, p) => quantizedDitPredictor(c, p, ptq),
        `ptq ${ptq.recipe} ${ptq.bits} (CPU float64)`,
      )
      : why
      ? await runSample(a, referencePredictor, `reference (float64 TypeScript; GPU: ${why})`)
      : await runSample(a, (c, p) => gpuPredictor(c, p, scheme), `GPU (forward ${scheme.fwd})`);
    if (a.json) console.log(JSON.stringify(r));
    else {console.log(
        `wrote ${r.out}: ${r.rows}×${r.cols} samples, ${r.steps} DDIM steps, cfg ${r.cfg} (${r.seconds} s)`,
      );}
  } catch (e) {
    console.error(`sample: ${(e as Error).message}`);
    Deno.exit(2);
  }
}
