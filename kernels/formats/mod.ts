/**
 * WGSL for the number formats: the source generator (snippet builders for fused kernels) and the
 * GPU host wrapper.
 * @module
 */
export * from "./wgsl.ts";
export * from "./run.ts";
