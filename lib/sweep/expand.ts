/**
 * Expansion of a validated spec into planned runs: the cartesian product schemes × models × token
 * budgets × seeds, after the spec's include/exclude filters, each with its resolved TrainConfig.
 * @module
 */
import type { TrainConfig } from "../engine/api.ts";
import type { Experiment } from "../spec/schema.ts";
import { type ResolvedScheme, resolveSchemes, type SchemeLabels } from "../spec/schemes.ts";
import { nonEmbeddingParams, resolveShape, type Shape, totalParams, VOCAB } from "../spec/shapes.ts";
import { learningRate } from "../spec/lr.ts";
import { InputError } from "../spec/errors.ts";
import { checkDataSource } from "../spec/data.ts";
import { validateModelConfig } from "../models/llama/config.ts";
import { applySpecFilters, type RunCoords } from "./filter.ts";
import { runId } from "./ids.ts";
import { attentionRecipe, checkTrainable } from "../attention/recipes.ts";

/** One run of a sweep, fully resolved. */
export interface PlannedRun extends RunCoords {
  schemeInfo: ResolvedScheme;
  shape: Shape;
  config: TrainConfig;
  nonEmbeddingParams: number;
  totalParams: number;
  /** Tokens actually trained: steps · batch · context. */
  trainTokens: number;
  /** 6 · N · D with N the non-embedding parameters and D the trained tokens. */
  flops: number;
}

/** Result of an expansion. */
export interface Expansion {
  runs: PlannedRun[];
  /** Grid points dropped because they resolve to the same config as an earlier one (same id). */
  duplicates: { id: string; model: string; scheme: string }[];
}

/** Expands a spec; scheme problems throw InputError (with suggestions). */
export async function expandExperiment(
  spec: Experiment,
  labels?: SchemeLabels,
): Promise<Expansion> {
  checkDataSource(spec.data);
  const schemes = resolveSchemes(spec.schemes, labels);
  const shapes = spec.models.map((m) => resolveShape(m, spec.shapeRule));
  const problems: string[] = [];
  shapes.forEach((sh, i) => {
    try {
      validateModelConfig({ ...sh, context: spec.context, vocab: VOCAB, rmsEps: 1e-5, ropeTheta: 10000 });
    } catch (e) {
      problems.push(`${(e as Error).message}\n  → at models[${i}]`);
    }
  });
  if (problems.length) throw new InputError(`invalid experiment spec:\n✖ ${problems.join("\n✖ ")}`);
  const attentions = spec.attention ?? ["fp32"];
  attentions.forEach((a, i) => {
    try {
      checkTrainable(attentionRecipe(a));
    } catch (e) {
      problems.push(`${(e as Error).message}\n  → at attention[${i}]`);
    }
  });
  if (problems.length) throw new InputError(`invalid experiment spec:\n✖ ${problems.join("\n✖ ")}`);
  const budgets: { tokensPerParam?: number; tokens?: number }[] = [
    ...(spec.tokens.perParam ?? []).map((p) => ({ tokensPerParam: p })),
    ...(spec.tokens.absolute ?? []).map((t) => ({ tokens: t })),
  ];
  const seqTokens = spec.batch * spec.context;
  const all: PlannedRun[] = [];
  for (const attention of attentions) {
    for (const scheme of schemes) {
      for (const shape of shapes) {
        const model = {
          layers: shape.layers,
          dModel: shape.dModel,
          heads: shape.heads,
          ffn: shape.ffn,
          context: spec.context,
          vocab: VOCAB,
          rmsEps: 1e-5,
          ropeTheta: 10000,
        };
        const n = nonEmbeddingParams(model);
        for (const budget of budgets) {
          const wanted = budget.tokens ?? budget.tokensPerParam! * n;
          const steps = Math.max(1, Math.round(wanted / seqTokens));
          for (const seed of spec.seeds) {
            const config: TrainConfig = {
              model,
              batch: spec.batch,
              steps,
              lr: learningRate(spec.optimizer.lr, n),
              seed,
              data: spec.data,
              scheme: {
                fwd: scheme.fwd,
                bwd: scheme.bwd,
                ...(scheme.fwdDef ? { fwdDef: scheme.fwdDef } : {}),
                ...(scheme.bwdDef ? { bwdDef: scheme.bwdDef } : {}),
              },
              evalEvery: spec.evalEvery,
              evalTokens: spec.evalTokens,
              // f32 attention stays absent from the config (unchanged hashes and run ids)
              ...(attention !== "fp32" ? { attention } : {}),
            };
            const trainTokens = steps * seqTokens;
            all.push({
              id: await runId(config),
              scheme: scheme.name,
              fwd: scheme.fwd,
              bwd: scheme.bwd,
              model: shape.name,
              layers: shape.layers,
              dModel: shape.dModel,
              ...budget,
              seed,
              attention,
              schemeInfo: scheme,
              shape,
              config,
              nonEmbeddingParams: n,
              totalParams: totalParams(model),
              trainTokens,
              flops: 6 * n * trainTokens,
            });
          }
        }
      }
    }
  }
  const kept = applySpecFilters(all, spec.include, spec.exclude);
  const seen = new Set<string>();
  const runs: PlannedRun[] = [];
  const duplicates: Expansion["duplicates"] = [];
  for (const r of kept) {
    if (seen.has(r.id)) duplicates.push({ id: r.id, model: r.model, scheme: r.scheme });
    else runs.push(r);
    seen.add(r.id);
  }
  return { runs, duplicates };
}
