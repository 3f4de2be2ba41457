/**
 * Quantization schemes as data: the catalogue, its compiler into linear-layer hooks, and the resolver that
 * turns a run's labels into the recipe record passed into a model (no registry, no side effects on import).
 * @module
 */
export * from "./types.ts";
export * from "./catalog.ts";
export * from "./compile.ts";
export { resolveRecipe, schemeLabels } from "./resolve.ts";
