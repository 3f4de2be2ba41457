/**
 * The experiment spec: one zod schema, from which the TypeScript types, the validation of
 * `experiments/*.ts` / `*.json` files and the editor JSON Schema (`deno task spec-schema`) all come.
 * @module
 */
import { z } from "zod";

/**
 * Limits of the spec's numbers and names. Names become parts of file names (results/<name>/, run ids),
 * so they are short; numbers are bounded so that every derived quantity (steps, learning rate, FLOPs)
 * stays finite and a run stays trainable.
 */
export const LIMITS = Object.freeze({
  /** Longest experiment, model or scheme name (characters). */
  name: 64,
  /** Largest seed + 1: seeds are u32. */
  seeds: 2 ** 32,
  /** Largest tokens per parameter. */
  perParam: 1e6,
  /** Largest absolute token budget. */
  tokens: 1e13,
  /** Largest number of optimizer steps a budget may resolve to. */
  steps: 1e8,
  /** Largest target size `params`. */
  params: 1e12,
  /** Largest learning rate (any rule, after clamping). */
  lr: 10,
  /** Largest batch (sequences per step). */
  batch: 4096,
  /** Longest context. */
  context: 8192,
  /** Largest evalEvery / checkpointEvery / evalTokens. */
  count: 1e8,
  /** Most runs a spec may expand to (before include/exclude). */
  runs: 100_000,
});

const slug = z.string().max(LIMITS.name).regex(
  /^[a-z0-9][a-z0-9._-]*$/,
  "use lower-case letters, digits, '.', '_' or '-'",
);
const label = z.string().max(LIMITS.name).regex(
  /^[A-Za-z0-9][A-Za-z0-9._+-]*$/,
  "use letters, digits, '.', '_', '+' or '-'",
);
/** A name used as a record key (speedups): never `__proto__`, which would not survive as a key. */
const key = z.string().min(1).max(LIMITS.name).refine((k) => k !== "__proto__", {
  message: "not a scheme name",
});
const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)]);

/**
 * One model of the ladder: an explicit shape (`layers` + `dModel`, optional `heads`/`ffn`), or a target
 * non-embedding size `params` turned into a shape by the rule in lib/spec/shapes.ts (`shapeForTarget`).
 * A DiT (`family: "dit"`, data "mnist") gives `depth`, `width`, `heads` and `patch`, or a target size `params`
 * (and optionally `patch`, default 4) resolved by the DiT rule of lib/spec/shapes.ts (`ditShapeForTarget`).
 */
export const ModelEntrySchema = z.object({
  /** Short name used in filters and run ids; default `L<layers>-d<dModel>` (DiT: `dit-D<depth>-w<width>`). */
  name: slug.optional(),
  /** Model family: "llama" (default) or "dit". */
  family: z.enum(["llama", "dit"]).optional(),
  /** DiT blocks. */
  depth: z.int().min(1).max(64).optional(),
  /** DiT width (hidden_size), a multiple of 32. */
  width: z.int().min(32).max(4096).multipleOf(32).optional(),
  /** DiT patch side (p·p a multiple of 8: 4 on 28×28 MNIST). */
  patch: z.int().min(1).optional(),
  layers: z.int().min(1).max(256).optional(),
  dModel: z.int().min(32).max(16384).multipleOf(32).optional(),
  /** Attention heads; default dModel / shapeRule.headDim. */
  heads: z.int().min(1).max(16384).optional(),
  /** SwiGLU hidden size; default 8·dModel/3 rounded up to a multiple of 32. */
  ffn: z.int().min(32).max(65536).multipleOf(32).optional(),
  /** Target non-embedding parameter count (instead of layers/dModel; DiT: instead of depth/width/heads). */
  params: z.number().min(1000).max(LIMITS.params).optional(),
}).strict().superRefine((m, ctx) => {
  if (m.family === "dit") {
    if (m.params !== undefined) {
      if (m.depth !== undefined || m.width !== undefined || m.heads !== undefined) {
        ctx.addIssue({
          code: "custom",
          message: "a DiT entry gives either params (and patch) or depth/width/heads",
        });
      }
    } else if (
      m.depth === undefined || m.width === undefined || m.heads === undefined || m.patch === undefined
    ) {
      ctx.addIssue({
        code: "custom",
        message:
          "a DiT entry gives depth, width, heads and patch, or a target size params (patch optional, 4)",
      });
    }
    if (m.layers !== undefined || m.dModel !== undefined || m.ffn !== undefined) {
      ctx.addIssue({
        code: "custom",
        message: "a DiT entry takes depth/width/heads/patch or params, not layers/dModel/ffn",
      });
    }
    return;
  }
  if (m.depth !== undefined || m.width !== undefined || m.patch !== undefined) {
    ctx.addIssue({ code: "custom", message: 'depth/width/patch belong to family: "dit" entries' });
  }
  const explicit = m.layers !== undefined || m.dModel !== undefined;
  if (m.params !== undefined && (explicit || m.heads !== undefined || m.ffn !== undefined)) {
    ctx.addIssue({ code: "custom", message: "give either params or an explicit shape, not both" });
  } else if (m.params === undefined && (m.layers === undefined || m.dModel === undefined)) {
    ctx.addIssue({ code: "custom", message: "give layers and dModel, or a target size params" });
  }
  if (m.heads !== undefined && m.dModel !== undefined && m.dModel % m.heads !== 0) {
    ctx.addIssue({ code: "custom", message: "dModel must be divisible by heads", path: ["heads"] });
  }
});

/**
 * How one GEMM operand is quantized, inline (mirrors lib/schemes/types.ts `OperandQuant`): element
 * format, scale along the reduction axis, rounding, optional Hadamard, prescale, OCC clip, QuEST INT
 * grid, gradient estimator.
 */
export const OperandQuantSchema = z.object({
  /** Element format of lib/formats (e2m1, e4m3, e5m2, int4, bf16, …), or "centred" with `centred`. */
  element: z.string().min(1).max(LIMITS.name),
  scale: z.object({
    granularity: z.enum(["none", "block", "row"]),
    block: z.int().min(1).max(4096).optional(),
    type: z.enum(["f32", "e8m0", "e4m3"]),
    rule: z.enum(["absmax", "ocp", "quest", "quest-round", "rms"]),
  }).strict(),
  rounding: z.enum(["nearest", "stochastic"]),
  hadamard: z.object({ size: z.int().min(16).max(4096), signs: z.enum(["fixed", "per-step"]) }).strict()
    .optional(),
  prescale: z.number().positive().max(1e6).optional(),
  clip: z.object({ quantile: z.number().gt(0).lte(1), compensate: z.boolean() }).strict().optional(),
  centred: z.object({ bits: z.int().min(1).max(8), alpha: z.number().positive().max(1e3) }).strict()
    .optional(),
  estimator: z.enum(["ste", "trust", "dge"]).optional(),
  dge: z.object({ k: z.number().positive().max(1e3), clamp: z.number().positive().max(1e6) }).strict()
    .optional(),
}).strict();

/** An inline forward half: quantizers of X and W (optionally per module: qkv, o, gate_up, down). */
export const ForwardDefSchema = z.object({
  description: z.string().max(1000).optional(),
  x: OperandQuantSchema.optional(),
  w: OperandQuantSchema.optional(),
  modules: z.partialRecord(
    z.enum(["qkv", "o", "gate_up", "down"]),
    z.object({ x: OperandQuantSchema.optional(), w: OperandQuantSchema.optional() }).strict(),
  ).optional(),
}).strict();

/** An inline backward half: quantizers of dY and W in dX = dY·W, and of dY and X in dW = dYᵀ·X. */
export const BackwardDefSchema = z.object({
  description: z.string().max(1000).optional(),
  dxDy: OperandQuantSchema.optional(),
  dxW: OperandQuantSchema.optional(),
  dwDy: OperandQuantSchema.optional(),
  dwX: OperandQuantSchema.optional(),
}).strict();

/**
 * A scheme: a catalogue name ("quartet", "bf16", a one-sided label), a forward/backward pair of labels,
 * or a named entry whose `fwd` and/or `bwd` are inline definitions (labelled `<name>.<hash>` and carried
 * with the run's scheme, so editing a definition makes new runs instead of reusing old ones).
 */
export const SchemeEntrySchema = z.union([
  label,
  z.object({
    /** Name in results and filters; default `<fwd>+<bwd>` (or the single label when equal). Required inline. */
    name: label.optional(),
    /** Forward recipe: a label, or an inline definition. */
    fwd: z.union([label, ForwardDefSchema]),
    /** Backward recipe: a label, or an inline definition. */
    bwd: z.union([label, BackwardDefSchema]),
    /** Element bits of the forward/backward GEMM operands, when the rule in lib/spec/schemes.ts is not right. */
    fwdBits: z.number().positive().max(64).optional(),
    bwdBits: z.number().positive().max(64).optional(),
  }).strict().refine(
    (e) => e.name !== undefined || (typeof e.fwd === "string" && typeof e.bwd === "string"),
    {
      message: "a scheme with an inline definition needs a name",
      path: ["name"],
    },
  ),
]);

/** Token budgets: absolute counts and/or tokens per non-embedding parameter (D/N). */
export const TokensSchema = z.object({
  /** Tokens per non-embedding parameter, e.g. [25, 50, 100] as in Quartet. */
  perParam: z.array(z.number().positive().max(LIMITS.perParam)).min(1).optional(),
  /** Absolute token counts. */
  absolute: z.array(z.int().positive().max(LIMITS.tokens)).min(1).optional(),
}).strict().refine((t) => t.perParam !== undefined || t.absolute !== undefined, {
  message: "give perParam and/or absolute token budgets",
});

/** Learning-rate rule per model size. */
export const LrRuleSchema = z.discriminatedUnion("rule", [
  z.object({ rule: z.literal("constant"), value: z.number().positive().max(LIMITS.lr) }).strict(),
  z.object({
    /** lr(N) = base · (baseParams / N)^power, clamped to [min, max] (Quartet: power 1, tuned on a small model). */
    rule: z.literal("inverse-params"),
    base: z.number().positive().max(LIMITS.lr),
    baseParams: z.number().min(1).max(LIMITS.params),
    power: z.number().min(0).max(2).default(1),
    min: z.number().positive().max(LIMITS.lr).optional(),
    max: z.number().positive().max(LIMITS.lr).optional(),
  }).strict().refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, {
    message: "min must not exceed max",
    path: ["min"],
  }),
]);

/**
 * Warmup–stable–decay learning-rate schedule (lib/engine/schedule.ts). Runs that differ only in token
 * budget then share their stable phase (lib/sweep/sharing.ts): warmup is in steps, not a fraction, so
 * that every budget has the same one.
 */
export const ScheduleSchema = z.object({
  kind: z.literal("wsd"),
  /** Warmup steps (linear from peak/100 to peak). */
  warmup: z.int().min(0).max(LIMITS.steps),
  /** Fraction of each run's steps spent decaying to 0 (default 0.2). */
  decay: z.number().gt(0).lte(1).default(0.2),
  /** Decay shape (default "1-sqrt"). */
  shape: z.enum(["linear", "1-sqrt"]).default("1-sqrt"),
}).strict();

/**
 * Optimizer; the engine implements AdamW (β, weight decay and clipping are fixed there). Without
 * `schedule` the learning rate follows the engine's cosine (10 % warmup, decay to peak/10).
 */
export const OptimizerSchema = z.object({
  kind: z.literal("adamw").default("adamw"),
  lr: LrRuleSchema,
  schedule: ScheduleSchema.optional(),
}).strict();

/** Hardware cost profile for the compute frontier (Quartet §3.1): speed-ups of each pass vs a baseline. */
export const CostSchema = z.discriminatedUnion("model", [
  z.object({
    /** Speed ∝ 1/bits on each pass (BOPS), relative to `baselineBits` (Quartet: FP8 = 8). */
    model: z.literal("bops"),
    baselineBits: z.number().positive().max(64).default(8),
    /** Share of training compute in the forward pass (rest is backward). */
    forwardShare: z.number().gt(0).lt(1).default(1 / 3),
  }).strict(),
  z.object({
    /** Measured forward/backward speed-ups per scheme name (missing schemes: 1). */
    model: z.literal("measured"),
    speedups: z.record(
      key,
      z.object({ fwd: z.number().positive().max(1e6), bwd: z.number().positive().max(1e6) }).strict(),
    ),
    forwardShare: z.number().gt(0).lt(1).default(1 / 3),
  }).strict(),
]);

/** Include/exclude filter: a run matches when every given field matches one of its values. */
export const FilterSchema = z.object({
  scheme: oneOrMany(z.string().max(2 * LIMITS.name + 1)).optional(),
  model: oneOrMany(z.string().max(LIMITS.name)).optional(),
  /** Matches budgets given as tokens.perParam. */
  tokensPerParam: oneOrMany(z.number()).optional(),
  /** Matches budgets given as tokens.absolute. */
  tokens: oneOrMany(z.number()).optional(),
  seed: oneOrMany(z.int().min(0).max(LIMITS.seeds - 1)).optional(),
}).strict().refine((f) => Object.values(f).some((v) => v !== undefined), {
  message:
    "an empty filter matches every run; name at least one of scheme, model, tokensPerParam, tokens, seed",
});

/** The rule turning target sizes into shapes (see shapeForTarget). */
export const ShapeRuleSchema = z.object({
  /** Preferred dModel / layers; shapes within a factor 2 of it are eligible (so 0.25–16384 can match). */
  aspect: z.number().min(0.25).max(16384).default(32),
  /** Head size used when heads are not given. */
  headDim: z.int().min(8).max(1024).multipleOf(8).default(32),
}).strict();

/** A whole experiment. */
export const ExperimentSchema = z.object({
  /** Editor hint for JSON specs; ignored. */
  $schema: z.string().optional(),
  /** Results go to results/<name>/. */
  name: slug,
  description: z.string().max(10_000).optional(),
  /** Data source ("sotu", "brown", "moby-dick", "markov:…"). */
  data: z.string().min(1).max(200),
  /** The model ladder. */
  models: z.array(ModelEntrySchema).min(1),
  shapeRule: ShapeRuleSchema.default({ aspect: 32, headDim: 32 }),
  schemes: z.array(SchemeEntrySchema).min(1),
  /** Attention recipes crossed with the schemes (lib/attention/recipes.ts; absent: ["fp32"]). */
  attention: z.array(z.string().min(1)).min(1).optional(),
  tokens: TokensSchema,
  /** Seeds of init, batches and stochastic rounding: integers in [0, 2^32). */
  seeds: z.array(z.int().min(0).max(LIMITS.seeds - 1)).min(1).default([0]),
  optimizer: OptimizerSchema,
  /** Sequences per step. */
  batch: z.int().min(1).max(LIMITS.batch),
  /** Context length in tokens (the engine needs a multiple of 32); required for Llama ladders, unused by DiT ones. */
  context: z.int().min(32).max(LIMITS.context).multipleOf(32).optional(),
  /** Validation every this many steps (0: only at the end). */
  evalEvery: z.int().min(0).max(LIMITS.count).default(0),
  /** Held-out tokens per validation. */
  evalTokens: z.int().min(1).max(LIMITS.count),
  /** Resumable checkpoint every this many steps (0: only at the end). Not part of run ids. */
  checkpointEvery: z.int().min(0).max(LIMITS.count).default(50),
  cost: CostSchema.default({ model: "bops", baselineBits: 8, forwardShare: 1 / 3 }),
  /** Keep only runs matching one of these (all runs when absent). */
  include: z.array(FilterSchema).optional(),
  /** Drop runs matching any of these. */
  exclude: z.array(FilterSchema).optional(),
  /** Post-training quantization stage: recipes (`deno task ptq --list`), optionally "name:wXaY", run on every finished run. */
  ptq: z.array(z.string().min(1)).optional(),
  /** Settings of the PTQ stage. */
  ptqOptions: z.object({
    /** Calibration sequences (default 32). */
    calib: z.int().min(2).optional(),
    /** Validation tokens for loss before/after (default min(evalTokens, 4096)). */
    evalTokens: z.int().min(1).optional(),
    /** AdaRound iterations of the fp4dit recipes. */
    iters: z.int().min(1).optional(),
    /** Calibration / rotation seed (default 0). */
    seed: z.int().min(0).optional(),
  }).strict().optional(),
}).strict();

/** What a spec author writes (defaults optional). */
export type ExperimentInput = z.input<typeof ExperimentSchema>;
/** A validated spec with defaults filled in. */
export type Experiment = z.output<typeof ExperimentSchema>;
/** One validated model entry. */
export type ModelEntry = z.output<typeof ModelEntrySchema>;
/** One validated scheme entry. */
export type SchemeEntry = z.output<typeof SchemeEntrySchema>;
/** One validated filter. */
export type Filter = z.output<typeof FilterSchema>;
/** One validated inline operand quantizer. */
export type OperandQuantDef = z.output<typeof OperandQuantSchema>;
/** A validated inline forward half. */
export type ForwardDef = z.output<typeof ForwardDefSchema>;
/** A validated inline backward half. */
export type BackwardDef = z.output<typeof BackwardDefSchema>;
/** A validated learning-rate rule. */
export type LrRule = z.output<typeof LrRuleSchema>;
/** A validated shape rule. */
export type ShapeRule = z.output<typeof ShapeRuleSchema>;

/**
 * Declares an experiment in a TypeScript module (`export default defineExperiment({...})`).
 * Typed only: validation happens when the sweep loads the module, so every problem is listed at once.
 */
export function defineExperiment(spec: ExperimentInput): ExperimentInput {
  return spec;
}

/** JSON Schema of the spec (input side: defaults optional) for editor completion of JSON specs. */
export function specJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ExperimentSchema, { io: "input" }) as Record<string, unknown>;
}
