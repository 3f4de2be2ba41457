/**
 * fp4lab: low-precision (FP4) training scaling-law studies on WebGPU.
 *
 * The map of the package, in the order data flows:
 *
 * | stage | module | what it does |
 * |---|---|---|
 * | formats | `formats`, `formatKernels` | number formats as data; TS reference quantizers and their WGSL twins |
 * | schemes | `schemes` | training recipes (Quartet, QuEST, DGE/OCC, …) as data, compiled to GEMM operand hooks |
 * | engine | {@link train} | Llama-style decoder trained in WGSL, HF-compatible checkpoints |
 * | spec | {@link defineExperiment}, {@link loadSpec} | zod-validated experiment specs |
 * | sweep | {@link runSweep} | expansion, stable run ids, resumable and shardable runner |
 * | results | `results` | tidy `runs.csv` + curves, atomic writes, merge |
 * | fit | `fit` | Chinchilla / Quartet / Kumar laws, bootstrap CIs, cost models, frontiers |
 * | charts | `charts` | Vega-Lite specs rendered to SVG / PNG / HTML and shown in Jupyter |
 *
 * ```ts
 * import { charts, fit } from "./mod.ts";
 * const runs = fit.toRuns(await fit.readTable("results/quartet-tiny"), "quartet");
 * const law = fit.fitRuns(runs, { form: "quartet" });
 * await charts.show(law);
 * ```
 * @module
 */

export { getGpu } from "./lib/gpu/device.ts";
export type { Gpu } from "./lib/gpu/device.ts";

export * as formats from "./lib/formats/mod.ts";
export * as formatKernels from "./kernels/formats/mod.ts";
export * as schemes from "./lib/schemes/mod.ts";

export { train } from "./lib/engine/train.ts";
export { defaultFfn, paramCounts, resolveModelConfig } from "./lib/models/llama/config.ts";
export type {
  CurvePoint,
  ModelConfig,
  SchemeChoice,
  TrainConfig,
  TrainHooks,
  TrainProgress,
  TrainResult,
} from "./lib/engine/api.ts";
export { loadSource, SOURCE_NAMES } from "./lib/data/sources.ts";
export type { DataSource } from "./lib/data/sources.ts";

export { defineExperiment, specJsonSchema } from "./lib/spec/schema.ts";
export type { Experiment, ExperimentInput } from "./lib/spec/schema.ts";
export { loadSpec } from "./lib/spec/load.ts";
export type { LoadedSpec } from "./lib/spec/load.ts";
export { parseExperiment } from "./lib/spec/validate.ts";

export { runSweep } from "./lib/sweep/runner.ts";
export type { SweepOptions, SweepSummary } from "./lib/sweep/runner.ts";
export { runDemoSweep } from "./lib/sweep/demo.ts";
export type { DemoOptions } from "./lib/sweep/demo.ts";
export { expandExperiment } from "./lib/sweep/expand.ts";
export type { Expansion, PlannedRun } from "./lib/sweep/expand.ts";
export type { RunCoords } from "./lib/sweep/filter.ts";
export type { Shard } from "./lib/sweep/shard.ts";
export type { Sink } from "./lib/sweep/progress.ts";

export * as results from "./lib/results/mod.ts";
export * as fit from "./lib/fit/mod.ts";
export * as charts from "./lib/charts/mod.ts";
