/**
 * One PTQ job end to end: validate the request (recipe, bits, checkpoint family, calibration count) before any
 * work, capture calibration inputs, measure the float loss, quantize, measure the quantized loss, write the
 * quantized checkpoint. Used by `deno task ptq` and the sweep's PTQ stage.
 * @module
 */
import type { ModelConfig } from "../engine/api.ts";
import { loadModel } from "../engine/checkpoint.ts";
import { loadSource } from "../data/sources.ts";
import { validationBatches } from "../data/batches.ts";
import { calibrationBatches, captureInputs } from "./calib.ts";
import { meanLoss } from "./forward.ts";
import { parseBits, recipeByName } from "./recipes.ts";
import { quantizeModelSearch } from "./quantize_model.ts";
import { type QuadRequest, type QuadSearch, runSearch, runSearchAsync } from "./quad_batch.ts";
import { type LayerReport } from "./quantize_model.ts";
import { readPtqConfig, writeQuantized } from "./checkpoint.ts";
import { type JobResult, type PreparedJob, preparedJob, runJobSearch } from "./job.ts";
import { gpuQuad, type QuadStats } from "../../kernels/ptq/quad.ts";
import { type PreparedDitPtq, prepareDitPtq, runDitPreparedSearch } from "./dit_run.ts";
import type { DitScope } from "./dit_layers.ts";

/** A PTQ request. */
export interface PtqRequest {
  /** Float checkpoint directory. */
  checkpoint: string;
  /** Recipe name. */
  recipe: string;
  /** Bits (default: the recipe's). */
  bits?: string;
  /** Calibration sequences (default 32; a DiT: images, default 64). */
  calib?: number;
  /** Seed (default 0). */
  seed?: number;
  /** Output directory of the quantized checkpoint. */
  out: string;
  /** Validation tokens for lossBefore/lossAfter (default: the run's evalTokens, at most 4096). */
  evalTokens?: number;
  /** Data source override (default: the checkpoint's training data). */
  data?: string;
  /** DiT: validation tuples for lossBefore/lossAfter (default: the run's evalImages, at most 1,000). */
  evalImages?: number;
  /** DiT: quantize the block linears or every linear (default: the recipe's ditScope). */
  scope?: DitScope;
  /** AdaRound iterations override. */
  iters?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** The JSON summary of a job. */
export interface PtqReport {
  recipe: string;
  bits: string;
  lossBefore: number;
  lossAfter: number;
  delta: number;
  layers: LayerReport[];
  seconds: number;
}

/** Everything validated and loaded before the work starts (a Llama or a DiT job). */
export type PreparedPtq = PreparedLlamaPtq | PreparedDitPtq;

/** A Llama job validated and loaded. */
export interface PreparedLlamaPtq extends PreparedJob {
  /** Family tag. */
  family: "llama";
  /** Model shape. */
  cfg: ModelConfig;
  /** Data source of calibration and validation. */
  data: string;
  /** Validation tokens for lossBefore / lossAfter. */
  evalTokens: number;
}

/** Checks the request and loads the checkpoint; throws one line for bad input. */
export function preparePtq(req: PtqRequest): PreparedPtq {
  const recipe = recipeByName(req.recipe);
  const bits = parseBits(req.bits ?? recipe.bits);
  let cj: Record<string, unknown>;
  try {
    cj = JSON.parse(Deno.readTextFileSync(`${req.checkpoint}/config.json`));
  } catch {
    throw new Error(`checkpoint ${req.checkpoint}: config.json not found or not JSON`);
  }
  const family = String(cj.model_type ?? (cj.fp4lab as { family?: string })?.family ?? "unknown");
  if (family !== "llama" && family !== "dit") {
    throw new Error(
      `checkpoint ${req.checkpoint} is a ${family} checkpoint; ptq runs on llama and dit checkpoints`,
    );
  }
  if (readPtqConfig(req.checkpoint)) {
    throw new Error(`checkpoint ${req.checkpoint} is already quantized; give the float checkpoint`);
  }
  if (family === "dit") {
    return prepareDitPtq(req.checkpoint, recipe, bits, {
      calib: req.calib,
      seed: req.seed,
      evalImages: req.evalImages,
      scope: req.scope,
    });
  }
  if (req.scope !== undefined || req.evalImages !== undefined) {
    throw new Error(
      `--scope and --eval-images apply to DiT checkpoints; ${req.checkpoint} is a llama checkpoint`,
    );
  }
  const calib = req.calib ?? 32;
  if (!Number.isInteger(calib) || calib < 2) {
    throw new Error(`too few calibration samples: --calib ${req.calib} (need at least 2 sequences)`);
  }
  const { cfg, params } = loadModel(req.checkpoint);
  const fp = (cj.fp4lab ?? {}) as { train?: { data?: string; evalTokens?: number }; step?: number };
  const data = req.data ?? fp.train?.data;
  if (!data) throw new Error(`checkpoint ${req.checkpoint} does not name its training data; pass --data`);
  const evalTokens = req.evalTokens ?? Math.min(fp.train?.evalTokens ?? 4096, 4096);
  return {
    family: "llama",
    ...preparedJob(recipe, bits, params, fp, calib, req.seed ?? 0),
    cfg,
    data,
    evalTokens,
  };
}

/** Runs a prepared job and writes the quantized checkpoint (searches float64 on the CPU: the reference). */
export function runPrepared(p: PreparedPtq, req: PtqRequest): PtqReport {
  return runSearch(runPreparedSearch(p, req));
}

/**
 * Runs a prepared job with the searches' batched errors answered by `evaluate` (the GPU: kernels/ptq/quad.ts)
 * and writes the quantized checkpoint.
 */
export function runPreparedWith(
  p: PreparedPtq,
  req: PtqRequest,
  evaluate: (r: QuadRequest[]) => Promise<Float64Array[]>,
): Promise<PtqReport> {
  return runSearchAsync(runPreparedSearch(p, req), evaluate);
}

/** A job's report with where its searches ran: what `deno task ptq --json` prints. */
export interface PtqJobReport extends PtqReport {
  /** "gpu" when the searches' batched errors went to the GPU evaluator, else "cpu". */
  search: "gpu" | "cpu";
  /** On the GPU: what went where. */
  searchStats?: QuadStats;
}

/**
 * Runs a prepared job as `deno task ptq` and the sweep's PTQ stage do: the fpq recipes' searches (the only
 * GEMM-shaped ones) answered on the GPU (kernels/ptq/quad.ts; requests under 2^24 multiply-adds on the CPU
 * reference), every other recipe — and every recipe when `cpu` — float64 on the CPU (the reference).
 */
export async function runPtqJob(
  p: PreparedPtq,
  req: PtqRequest,
  o: { cpu?: boolean } = {},
): Promise<PtqJobReport> {
  const gpu = !o.cpu && p.recipe.method === "fpq" ? await gpuQuad() : undefined;
  if (!gpu) return { ...runPrepared(p, req), search: "cpu" };
  req.log?.(`searches on the GPU: ${gpu.adapter}`);
  const report = await runPreparedWith(p, req, gpu.evaluate);
  const st = gpu.stats;
  req.log?.(
    `search requests: ${st.gpuRequests} on the GPU (${(st.gpuMacs / 1e9).toFixed(2)} G multiply-adds), ` +
      `${st.cpuRequests} below the size threshold on the CPU`,
  );
  return { ...report, search: "gpu", searchStats: st };
}

/** A prepared job as a {@link QuadSearch}: yields every batched error request of its searches. */
export function* runPreparedSearch(p: PreparedPtq, req: PtqRequest): QuadSearch<PtqReport> {
  const t0 = performance.now();
  const r = yield* (p.family === "dit" ? runDitPreparedSearch(p, req) : runLlamaPreparedSearch(p, req));
  return {
    recipe: p.recipe.name,
    bits: p.bits.bits,
    lossBefore: r.lossBefore,
    lossAfter: r.lossAfter,
    delta: r.lossAfter - r.lossBefore,
    layers: r.layers,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** A prepared Llama job: calibration sequences and validation tokens of its data source. */
function runLlamaPreparedSearch(p: PreparedLlamaPtq, req: PtqRequest): QuadSearch<JobResult> {
  const src = loadSource(p.data);
  const T = p.cfg.context;
  const calib = calibrationBatches(src.train, T, p.calib, p.seed);
  const val = validationBatches(src.val, T, 8, p.evalTokens).batches;
  return runJobSearch(p, {
    loss: (params, hook) => meanLoss(p.cfg, params, val, hook),
    lossLine: (loss) => `loss before ${loss.toFixed(4)}`,
    capture: () => captureInputs(p.cfg, p.params, calib).inputs,
    quantize: (inputs, o) => quantizeModelSearch(p.cfg, p.params, inputs, p.recipe, o),
    ptqExtra: {},
    write: (out, q, ptq) => writeQuantized(out, p.cfg, q, ptq, p.extra),
  }, req);
}

/** Validates, then runs one PTQ job. */
export function runPtq(req: PtqRequest): PtqReport {
  return runPrepared(preparePtq(req), req);
}
