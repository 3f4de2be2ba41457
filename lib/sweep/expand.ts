/**
 * Expansion of a validated spec into planned runs: the cartesian product schemes × models × token
 * budgets × seeds, after the spec's include/exclude filters, each with its resolved TrainConfig.
 * @module
 */
import type { AnyModelConfig, TrainConfig } from "../engine/api.ts";
import { ditParamCounts, resolveDitConfig } from "../models/dit/config.ts";
import { checkRecipeBatch } from "../models/dit/train.ts";
import { modelDims } from "../models/dims.ts";
import type { Experiment } from "../spec/schema.ts";
import { type ResolvedScheme, resolveSchemes, type SchemeLabels } from "../spec/schemes.ts";
import {
  ditShape,
  nonEmbeddingParams,
  resolveShape,
  type Shape,
  totalParams,
  VOCAB,
} from "../spec/shapes.ts";
import { learningRate } from "../spec/lr.ts";
import { InputError } from "../spec/errors.ts";
import { checkDataSource } from "../spec/data.ts";
import { validateModelConfig } from "../models/llama/config.ts";
import { applySpecFilters, type RunCoords } from "./filter.ts";
import { runId } from "./ids.ts";

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
  const problems: string[] = [];
  const dits = spec.models.map((m) => m.family === "dit");
  if (dits.some((d) => d) !== (spec.data === "mnist") || (dits.some((d) => d) && !dits.every((d) => d))) {
    problems.push(
      `DiT ladders (family: "dit") train on data "mnist", and "mnist" only takes DiT ladders\n  → at models`,
    );
  }
  if (!dits.every((d) => d) && spec.context === undefined) {
    problems.push(`context is required\n  → at context`);
  }
  if (dits.some((d) => d)) {
    for (const sc of schemes) {
      try {
        checkRecipeBatch(sc, spec.batch);
      } catch (e) {
        problems.push(`${(e as Error).message.replace(/^train: /, "")}\n  → at batch`);
      }
    }
  }
  if (problems.length) throw new InputError(`invalid experiment spec:\n✖ ${problems.join("\n✖ ")}`);
  const shapes = spec.models.map((m) => m.family === "dit" ? ditShape(m) : resolveShape(m, spec.shapeRule));
  shapes.forEach((sh, i) => {
    try {
      if (sh.dit) resolveDitConfig(sh.dit);
      else {validateModelConfig({
          ...sh,
          context: spec.context!,
          vocab: VOCAB,
          rmsEps: 1e-5,
          ropeTheta: 10000,
        });}
    } catch (e) {
      problems.push(`${(e as Error).message}\n  → at models[${i}]`);
    }
  });
  if (problems.length) throw new InputError(`invalid experiment spec:\n✖ ${problems.join("\n✖ ")}`);
  const budgets: { tokensPerParam?: number; tokens?: number }[] = [
    ...(spec.tokens.perParam ?? []).map((p) => ({ tokensPerParam: p })),
    ...(spec.tokens.absolute ?? []).map((t) => ({ tokens: t })),
  ];
  const all: PlannedRun[] = [];
  for (const scheme of schemes) {
    for (const shape of shapes) {
      // a DiT's "tokens" are patches: D = training images × patches per image
      const model: AnyModelConfig = shape.dit ? resolveDitConfig(shape.dit) : {
        layers: shape.layers,
        dModel: shape.dModel,
        heads: shape.heads,
        ffn: shape.ffn,
        context: spec.context!,
        vocab: VOCAB,
        rmsEps: 1e-5,
        ropeTheta: 10000,
      };
      const seqTokens = spec.batch * modelDims(model).context;
      const n = model.family === "dit" ? ditParamCounts(model).nonEmbedding : nonEmbeddingParams(model);
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
            schemeInfo: scheme,
            shape,
            config,
            nonEmbeddingParams: n,
            totalParams: model.family === "dit" ? ditParamCounts(model).trainable : totalParams(model),
            trainTokens,
            flops: 6 * n * trainTokens,
          });
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
