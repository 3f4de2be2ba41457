/**
 * Expansion of a validated spec into planned runs: the cartesian product schemes × models × token
 * budgets × seeds, after the spec's include/exclude filters, each with its resolved TrainConfig.
 * @module
 */
import type { AnyModelConfig, TrainConfig } from "../engine/api.ts";
import { ditParamCounts, resolveDitConfig } from "../models/dit/config.ts";
import { checkRecipeBatch } from "../models/dit/train.ts";
import { modelDims } from "../models/dims.ts";
import { type Experiment, type Filter, LIMITS } from "../spec/schema.ts";
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
import { InputError, type Problem, specError } from "../spec/errors.ts";
import { dataSourceProblem } from "../spec/data.ts";
import { unknownNameMessage } from "../spec/suggest.ts";
import { formatSi } from "./format.ts";
import { validateModelConfig } from "../models/llama/config.ts";
import { applySpecFilters, matchesFilter, type RunCoords } from "./filter.ts";
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

/** The grid's axes and its size before include/exclude (schemes × models × budgets × seeds). */
export interface GridSize {
  schemes: number;
  models: number;
  budgets: number;
  seeds: number;
  runs: number;
}

/** Size of a spec's grid, computed without expanding it. */
export function gridSize(spec: Experiment): GridSize {
  const budgets = (spec.tokens.perParam?.length ?? 0) + (spec.tokens.absolute?.length ?? 0);
  const g = { schemes: spec.schemes.length, models: spec.models.length, budgets, seeds: spec.seeds.length };
  return { ...g, runs: g.schemes * g.models * g.budgets * g.seeds };
}

/** The one-line problem of a grid over {@link LIMITS}.runs, or undefined. */
export function gridProblem(spec: Experiment): Problem | undefined {
  const g = gridSize(spec);
  if (g.runs <= LIMITS.runs) return undefined;
  return {
    message:
      `the spec expands to ${
        g.runs.toLocaleString("en")
      } runs (${g.schemes} schemes × ${g.models} models × ` +
      `${g.budgets} token budgets × ${g.seeds} seeds); at most ${
        LIMITS.runs.toLocaleString("en")
      } per spec: ` +
      `split it into several specs`,
    path: "",
  };
}

/** Unknown filter values (with suggestions) and filters that match no run, each a problem. */
function filterProblems(spec: Experiment, all: RunCoords[], schemes: string[], models: string[]): Problem[] {
  const out: Problem[] = [];
  const known: [keyof Filter, unknown[]][] = [
    ["scheme", schemes],
    ["model", models],
    ["tokensPerParam", spec.tokens.perParam ?? []],
    ["tokens", spec.tokens.absolute ?? []],
    ["seed", spec.seeds],
  ];
  for (const which of ["include", "exclude"] as const) {
    (spec[which] ?? []).forEach((f, i) => {
      let bad = false;
      for (const [field, values] of known) {
        const given = f[field];
        if (given === undefined) continue;
        const list = Array.isArray(given) ? given : [given];
        list.forEach((v, j) => {
          if (values.includes(v)) return;
          bad = true;
          const path = `${which}[${i}].${field}${Array.isArray(given) ? `[${j}]` : ""}`;
          const message = typeof v === "string"
            ? unknownNameMessage(field, v, values.map(String)).replace(/^unknown/, `filter names an unknown`)
            : `filter names ${field} ${v}, which the spec does not have (it has: ${
              values.join(", ") || "none"
            })`;
          out.push({ message, path });
        });
      }
      if (!bad && !all.some((r) => matchesFilter(r, f))) {
        out.push({ message: "this filter matches no run of the spec", path: `${which}[${i}]` });
      }
    });
  }
  return out;
}

/** Expands a spec; every problem (data, schemes, shapes, numbers, filters, grid size) throws one InputError. */
export async function expandExperiment(
  spec: Experiment,
  labels?: SchemeLabels,
): Promise<Expansion> {
  const problems: Problem[] = [];
  const grid = gridProblem(spec);
  if (grid) throw specError([grid]);
  const dataProblem = dataSourceProblem(spec.data);
  if (dataProblem) problems.push(dataProblem);
  let schemes: ResolvedScheme[] = [];
  try {
    schemes = resolveSchemes(spec.schemes, labels);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    problems.push(...e.problems);
  }
  const dits = spec.models.map((m) => m.family === "dit");
  if (dits.some((d) => d) !== (spec.data === "mnist") || (dits.some((d) => d) && !dits.every((d) => d))) {
    problems.push({
      message: `DiT ladders (family: "dit") train on data "mnist", and "mnist" only takes DiT ladders`,
      path: "models",
    });
  }
  if (dits.some((d) => d) && spec.optimizer.schedule) {
    problems.push({
      message: "a WSD schedule is not implemented for DiT ladders yet (they use the cosine); remove it",
      path: "optimizer.schedule",
    });
  }
  if (!dits.every((d) => d) && spec.context === undefined) {
    problems.push({ message: "context is required for Llama ladders", path: "context" });
  }
  if (dits.some((d) => d)) {
    for (const sc of schemes) {
      try {
        checkRecipeBatch(sc, spec.batch);
      } catch (e) {
        problems.push({ message: (e as Error).message.replace(/^train: /, ""), path: "batch" });
      }
    }
  }
  const shapes: (Shape | undefined)[] = spec.models.map((m, i) => {
    try {
      return m.family === "dit" ? ditShape(m) : resolveShape(m, spec.shapeRule);
    } catch (e) {
      problems.push({
        message: (e as Error).message,
        path: `models[${i}]${m.params !== undefined ? ".params" : ""}`,
      });
      return undefined;
    }
  });
  const byName = new Map<string, Shape>();
  shapes.forEach((sh, i) => {
    if (!sh) return;
    try {
      if (sh.dit) resolveDitConfig(sh.dit);
      else if (spec.context !== undefined) {
        validateModelConfig({ ...sh, context: spec.context, vocab: VOCAB, rmsEps: 1e-5, ropeTheta: 10000 });
      }
    } catch (e) {
      problems.push({ message: (e as Error).message, path: `models[${i}]` });
    }
    const other = byName.get(sh.name);
    if (
      other && (other.layers !== sh.layers || other.dModel !== sh.dModel || other.heads !== sh.heads ||
        other.ffn !== sh.ffn)
    ) {
      problems.push({
        message:
          `model name "${sh.name}" is already used by a different shape (${other.layers} layers, d ${other.dModel})`,
        path: `models[${i}]${spec.models[i].name !== undefined ? ".name" : ""}`,
      });
    }
    if (!other) byName.set(sh.name, sh);
  });
  if (spec.cost.model === "measured") {
    const names = schemes.map((s) => s.name);
    for (const k of Object.keys(spec.cost.speedups)) {
      if (schemes.length && !names.includes(k)) {
        problems.push({
          message: unknownNameMessage("scheme", k, names).replace(/^unknown/, "speedups for an unknown"),
          path: `cost.speedups.${k}`,
        });
      }
    }
  }
  const attentions = spec.attention ?? ["fp32"];
  attentions.forEach((a, i) => {
    try {
      checkTrainable(attentionRecipe(a));
    } catch (e) {
      problems.push({ message: (e as Error).message, path: `attention[${i}]` });
    }
  });
  const budgets: { tokensPerParam?: number; tokens?: number; path: string }[] = [
    ...(spec.tokens.perParam ?? []).map((p, i) => ({ tokensPerParam: p, path: `tokens.perParam[${i}]` })),
    ...(spec.tokens.absolute ?? []).map((t, i) => ({ tokens: t, path: `tokens.absolute[${i}]` })),
  ];
  // A DiT's "tokens" are patches: D = training images × patches per image.
  const models = problems.length ? [] : shapes.map((shape) => {
    if (!shape) return undefined;
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
    const n = model.family === "dit" ? ditParamCounts(model).nonEmbedding : nonEmbeddingParams(model);
    return { shape, model, n, seqTokens: spec.batch * modelDims(model).context };
  });
  // Derived numbers: steps per budget and the learning rate per model must be finite and in range.
  const stepsOf = (b: { tokensPerParam?: number; tokens?: number }, m: { n: number; seqTokens: number }) =>
    Math.max(1, Math.round((b.tokens ?? b.tokensPerParam! * m.n) / m.seqTokens));
  for (const b of budgets) {
    const worst = models.reduce((w, m) => (m ? Math.max(w, stepsOf(b, m)) : w), 0);
    if (!(worst <= LIMITS.steps)) {
      problems.push({
        message: `this budget needs ${formatSi(worst)} steps of one batch each; at most ${
          formatSi(LIMITS.steps)
        }`,
        path: b.path,
      });
    }
  }
  // The first model whose learning rate is out of range says it (one line, not one per model).
  const lrBad = models.find((m) =>
    m && !(learningRate(spec.optimizer.lr, m.n) > 0 && learningRate(spec.optimizer.lr, m.n) <= LIMITS.lr)
  );
  if (lrBad) {
    problems.push({
      message:
        `the learning-rate rule gives lr ${learningRate(spec.optimizer.lr, lrBad.n)} for models[${
          models.indexOf(lrBad)
        }] (N = ${lrBad.n}); it must be in (0, ${LIMITS.lr}]` +
        (spec.optimizer.lr.rule === "inverse-params" ? " (set min/max)" : ""),
      path: "optimizer.lr",
    });
  }
  if (problems.length) throw specError(problems);
  const all: PlannedRun[] = [];
  for (const attention of attentions) {
    for (const scheme of schemes) {
      for (const m of models) {
        const { shape, model, n, seqTokens } = m!;
        for (const { path: _, ...budget } of budgets) {
          const steps = stepsOf(budget, m!);
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
              // only when given: configs (and run ids) of cosine specs stay as they were
              ...(spec.optimizer.schedule ? { schedule: spec.optimizer.schedule } : {}),
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
              totalParams: model.family === "dit" ? ditParamCounts(model).trainable : totalParams(model),
              trainTokens,
              flops: 6 * n * trainTokens,
            });
          }
        }
      }
    }
  }
  const filterIssues = filterProblems(spec, all, schemes.map((s) => s.name), [...byName.keys()]);
  if (filterIssues.length) throw specError(filterIssues);
  const kept = applySpecFilters(all, spec.include, spec.exclude);
  if (!kept.length) {
    throw specError([{ message: `include/exclude leave none of the ${all.length} runs`, path: "exclude" }]);
  }
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
