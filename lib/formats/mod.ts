/**
 * Number formats: element formats as data, the TS reference quantizers, scaling, Hadamard, RNG,
 * packing and presets. The WGSL twins live in kernels/formats/.
 * @module
 */
export * from "./elements.ts";
export * from "./f32.ts";
export * from "./hadamard.ts";
export * from "./packing.ts";
export * from "./presets.ts";
export * from "./quantize.ts";
export * from "./rng.ts";
export * from "./scaling.ts";
