/**
 * The named shapes of `deno task bench train --shape` and `deno task bench pack`. The demo shape is derived
 * from the demo's spec (experiments/quartet-tiny.ts: its smallest model, batch and context), so it follows
 * the demo when the spec changes.
 * @module
 */
import quartetTiny from "../experiments/quartet-tiny.ts";
import { parseExperiment } from "../lib/spec/validate.ts";
import { nonEmbeddingParams, resolveShape } from "../lib/spec/shapes.ts";

/** The demo's smallest model at the demo's batch and context (experiments/quartet-tiny.ts). */
function demoShape() {
  const spec = parseExperiment(quartetTiny, "experiments/quartet-tiny.ts");
  const shapes = spec.models.map((m) => resolveShape(m, spec.shapeRule));
  const s = shapes.reduce((a, b) => (nonEmbeddingParams(b) < nonEmbeddingParams(a) ? b : a));
  return {
    layers: s.layers,
    dModel: s.dModel,
    heads: s.heads,
    ffn: s.ffn,
    context: spec.context!, // a Llama ladder's spec has one (lib/sweep/expand.ts checks)
    batch: spec.batch,
    steps: 200,
  };
}

/** The shapes `--shape` names: the demo's (experiments/quartet-tiny.ts), quartet-small's largest, the reference. */
export const BENCH_SHAPES = {
  /** quartet-tiny's smallest model at its batch × context (today 1 layer, d 32, batch 16 × context 32). */
  demo: demoShape(),
  /** quartet-small's largest model (params 1.2e5 → 2 layers, d 64 by its shape rule): batch 16 × context 128. */
  small: { layers: 2, dModel: 64, heads: 2, context: 128, batch: 16, steps: 30 },
  /** The reference model: 4 layers, d 128, 4 heads, batch 16 × context 128. */
  reference: { layers: 4, dModel: 128, heads: 4, context: 128, batch: 16, steps: 10 },
} as const;

/** A named shape's one-line description, e.g. `1L d32 h1, batch 16 × context 32`. */
export function shapeLabel(
  s: { layers: number; dModel: number; heads: number; batch: number; context: number },
): string {
  return `${s.layers}L d${s.dModel} h${s.heads}, batch ${s.batch} × context ${s.context}`;
}
