/**
 * Model shapes and parameter counts, and the documented rule turning a target non-embedding size
 * into a shape.
 * @module
 */
import type { ModelConfig } from "../engine/api.ts";
import { defaultFfn as engineDefaultFfn, paramCounts } from "../models/llama/config.ts";
import type { ModelEntry, ShapeRule } from "./schema.ts";

/** Byte-level vocabulary of every data source. */
export const VOCAB = 256;

/** The engine's default SwiGLU hidden size: 8·d/3 rounded up to a multiple of 32. */
export const defaultFfn: (dModel: number) => number = engineDefaultFfn;

/**
 * Non-embedding parameters N (Quartet §2.1), the engine's exact count: per block 4d² (q, k, v, o) +
 * 3·d·ffn (SwiGLU) + 2d (two RMSNorm gains), plus the final RMSNorm; embedding and untied lm_head excluded.
 */
export function nonEmbeddingParams(m: Pick<ModelConfig, "layers" | "dModel" | "ffn">): number {
  return paramCounts({ ...m, vocab: VOCAB } as ModelConfig).nonEmbedding;
}

/** All parameters: N plus the embedding and the untied lm_head (vocab·d each). */
export function totalParams(m: Pick<ModelConfig, "layers" | "dModel" | "ffn" | "vocab">): number {
  return paramCounts(m as ModelConfig).total;
}

/** A resolved shape with its ladder name (a DiT's also carries its DiT dimensions). */
export interface Shape {
  name: string;
  layers: number;
  dModel: number;
  heads: number;
  ffn: number;
  /** DiT dimensions (family "dit" entries only). */
  dit?: { family: "dit"; depth: number; hidden: number; heads: number; patch: number };
}

/** Non-embedding parameters of a DiT (MLP ratio 4; lib/models/dit/config.ts): depth·(18w² + 15w) + 2w² + 2w. */
export function ditNonEmbeddingParams(depth: number, width: number): number {
  return depth * (18 * width * width + 15 * width) + 2 * width * width + 2 * width;
}

/** Width per block of the DiT target-size rule (DiT-S/B/L/XL keep width/depth at 32–96; 32 fits MNIST). */
export const DIT_ASPECT = 32;
/** Head size of the DiT target-size rule (heads = width / 32, as the d2w64 and d4w128 DiTs here). */
export const DIT_HEAD_DIM = 32;

/**
 * The rule for DiT target sizes: among depth 1–64 and width a multiple of 32 (32–4096) whose aspect
 * width/depth lies within a factor 2 of {@link DIT_ASPECT}, take the one whose N
 * ({@link ditNonEmbeddingParams}) is closest to the target in log scale (ties: fewer blocks);
 * heads = width / {@link DIT_HEAD_DIM}. Throws one line when the closest is more than
 * {@link TARGET_TOLERANCE}× from the target.
 */
export function ditShapeForTarget(target: number): { depth: number; width: number; heads: number } {
  let best: { depth: number; width: number; score: number } | undefined;
  for (let depth = 1; depth <= 64; depth++) {
    for (let width = 32; width <= 4096; width += 32) {
      const aspect = width / depth;
      if (aspect < DIT_ASPECT / 2 || aspect > DIT_ASPECT * 2) continue;
      const score = Math.abs(Math.log(ditNonEmbeddingParams(depth, width) / target));
      if (!best || score < best.score - 1e-12) best = { depth, width, score };
    }
  }
  const { depth, width } = best!;
  const n = ditNonEmbeddingParams(depth, width);
  if (!(Math.abs(Math.log(n / target)) <= Math.log(TARGET_TOLERANCE))) {
    throw new Error(
      `no DiT of the target-size rule is within ${TARGET_TOLERANCE}× of params ${target}; the closest, depth ` +
        `${depth} × width ${width}, has N = ${n}`,
    );
  }
  return { depth, width, heads: width / DIT_HEAD_DIM };
}

/**
 * The shape of a DiT ladder entry (depth, width, heads, patch; MLP ratio 4), or of its target size `params`
 * by {@link ditShapeForTarget} (patch default 4).
 */
export function ditShape(entry: ModelEntry): Shape {
  const t = entry.params !== undefined ? ditShapeForTarget(entry.params) : undefined;
  const depth = t?.depth ?? entry.depth!, width = t?.width ?? entry.width!, heads = t?.heads ?? entry.heads!;
  const patch = entry.patch ?? 4;
  return {
    name: entry.name ?? `dit-D${depth}-w${width}`,
    layers: depth,
    dModel: width,
    heads,
    ffn: 4 * width,
    dit: { family: "dit", depth, hidden: width, heads, patch },
  };
}

/** How far (as a factor) the chosen shape's N may be from the target before the target is refused. */
export const TARGET_TOLERANCE = 2;

/**
 * The rule for target sizes: among all shapes with 1–64 layers and dModel a multiple of 32 (32–8192)
 * whose aspect dModel/layers lies within a factor 2 of `rule.aspect`, take the one whose N is closest to
 * the target in log scale (ties: fewer layers). heads = dModel / headDim (at least 1), ffn = default.
 * Throws one line with the reason when no shape is eligible or the closest one is more than
 * {@link TARGET_TOLERANCE}× away from the target.
 */
export function shapeForTarget(target: number, rule: ShapeRule): Omit<Shape, "name"> {
  let best: { layers: number; dModel: number; score: number } | undefined;
  for (let layers = 1; layers <= 64; layers++) {
    for (let dModel = 32; dModel <= 8192; dModel += 32) {
      const aspect = dModel / layers;
      if (aspect < rule.aspect / 2 || aspect > rule.aspect * 2) continue;
      const n = nonEmbeddingParams({ layers, dModel, ffn: defaultFfn(dModel) });
      const score = Math.abs(Math.log(n / target));
      if (!best || score < best.score - 1e-12) best = { layers, dModel, score };
    }
  }
  if (!best) {
    throw new Error(
      `no shape with 1–64 layers and dModel 32–8192 has dModel/layers within 2× of aspect ${rule.aspect}; ` +
        `use an aspect between 0.25 and 16384`,
    );
  }
  const { layers, dModel } = best;
  const n = nonEmbeddingParams({ layers, dModel, ffn: defaultFfn(dModel) });
  if (!(Math.abs(Math.log(n / target)) <= Math.log(TARGET_TOLERANCE))) {
    throw new Error(
      `no shape of the shape rule (aspect ${rule.aspect}) is within ${TARGET_TOLERANCE}× of params ${target}; ` +
        `the closest, ${layers} layers × d ${dModel}, has N = ${n}`,
    );
  }
  return { layers, dModel, heads: Math.max(1, Math.floor(dModel / rule.headDim)), ffn: defaultFfn(dModel) };
}

/** Resolves one ladder entry into a named shape. */
export function resolveShape(entry: ModelEntry, rule: ShapeRule): Shape {
  const s = entry.params !== undefined ? shapeForTarget(entry.params, rule) : {
    layers: entry.layers!,
    dModel: entry.dModel!,
    heads: entry.heads ?? Math.max(1, Math.floor(entry.dModel! / rule.headDim)),
    ffn: entry.ffn ?? defaultFfn(entry.dModel!),
  };
  return { name: entry.name ?? `L${s.layers}-d${s.dModel}`, ...s };
}
