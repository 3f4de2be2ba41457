/**
 * fp4lab: low-precision (FP4) training scaling-law studies on WebGPU.
 *
 * The map of the package, in the order data flows:
 * formats → engine (training) → spec → sweep → results → fit → charts.
 * @module
 */
export { getGpu } from "./lib/gpu/device.ts";
export type { Gpu } from "./lib/gpu/device.ts";
export type {
  CurvePoint,
  ModelConfig,
  SchemeChoice,
  TrainConfig,
  TrainHooks,
  TrainProgress,
  TrainResult,
} from "./lib/engine/api.ts";
