/**
 * The engine's public contract: what a training run takes and what it returns.
 * The sweep runner, the CLI and the notebooks depend only on this file and `train()`.
 * @module
 */
import type { BackwardHalf, ForwardHalf } from "../schemes/types.ts";
import type { DitConfig } from "../models/dit/config.ts";
import type { WsdSchedule } from "./schedule.ts";

/** Shape of a Llama-style decoder (Hugging Face `LlamaForCausalLM` semantics). */
export interface ModelConfig {
  /** Model family; absent means "llama" (configs, checkpoints and run ids written before families existed). */
  family?: "llama";
  /** Number of decoder blocks. */
  layers: number;
  /** Residual width; a multiple of 32. */
  dModel: number;
  /** Attention heads; dModel / heads is the head size. */
  heads: number;
  /** SwiGLU hidden size; default 8·d/3 rounded up to a multiple of 32. */
  ffn: number;
  /** Context length in tokens. */
  context: number;
  /** Vocabulary size (256: bytes). */
  vocab: number;
  /** RMSNorm epsilon (1e-5). */
  rmsEps: number;
  /** RoPE base (10000). */
  ropeTheta: number;
}

/**
 * Forward/backward quantization labels of a run ("fp32", "bf16", and the schemes of lib/schemes), resolved
 * into recipe records up front (lib/schemes/resolve.ts). An inline definition travels with its label.
 */
export interface SchemeChoice {
  /** Forward recipe label (quantizers of X and W in Y = X·Wᵀ). */
  fwd: string;
  /** Backward recipe label (quantizers of the dX and dW GEMMs). */
  bwd: string;
  /** Inline forward definition (spec `{fwd: {...}}`); its label is `<name>.<hash of the definition>`. */
  fwdDef?: ForwardHalf;
  /** Inline backward definition. */
  bwdDef?: BackwardHalf;
}

/** The shape of any model family: a Llama decoder or a DiT (`family: "dit"`, lib/models/dit/config.ts). */
export type AnyModelConfig = ModelConfig | DitConfig;

/**
 * Everything that determines a training run; a run is a pure function of this plus the adapter. For a DiT
 * (data "mnist"): `batch` is images per step, a "token" is a patch (D = images × patches per image) and
 * `evalTokens` / patches per image is the number of validation tuples.
 */
export interface TrainConfig {
  /** Model shape. */
  model: AnyModelConfig;
  /** Sequences per step. */
  batch: number;
  /** Optimizer steps. */
  steps: number;
  /** Peak learning rate. */
  lr: number;
  /** Seed for init, batches and stochastic rounding. */
  seed: number;
  /** Data source name ("sotu", "brown", "moby-dick", "markov:…"). */
  data: string;
  /** Quantization recipe; default { fwd: "fp32", bwd: "fp32" }. */
  scheme: SchemeChoice;
  /** Validation every this many steps (0: only at the end). */
  evalEvery: number;
  /** Held-out tokens used for each validation. */
  evalTokens: number;
  /**
   * Learning-rate schedule; absent: the engine's cosine (lib/engine/train.ts `lrAt`). Absent rather than
   * a default value, so configs (and run ids) written before WSD existed are unchanged.
   */
  schedule?: WsdSchedule;
  /**
   * Attention recipe (lib/attention/recipes.ts; must have a backward). Absent means "fp32": configs without
   * it keep their hash, so run ids of f32-attention runs never change.
   */
  attention?: string;
  /** Start from the weights of this checkpoint directory (fine-tuning; fresh optimizer state). */
  initFrom?: string;
}

/**
 * Progress of a running training job, reported late: losses are read back through a ring (a few steps late for
 * a Llama; in blocks of 64, up to 128 steps late, for a DiT), one report per step, in order.
 */
export interface TrainProgress {
  /** Optimizer steps completed. */
  step: number;
  /** Total optimizer steps. */
  steps: number;
  /** Training tokens seen. */
  tokens: number;
  /** Learning rate. */
  lr: number;
  /** Training loss (nats/token) of the step's batch. */
  trainLoss: number;
  /** Training throughput. */
  tokensPerSecond: number;
  /** Estimated seconds left. */
  etaSeconds: number;
}

/** One row of the training curve. */
export interface CurvePoint {
  /** Optimizer steps completed. */
  step: number;
  /** Training tokens seen. */
  tokens: number;
  /** Learning rate. */
  lr: number;
  /** Training loss (nats/token) of the step's batch. */
  trainLoss: number;
  /** Present at evaluation steps. */
  valLoss?: number;
}

/** Options that do not change the result of a run. */
export interface TrainHooks {
  /** Directory for `model.safetensors`, `config.json` and resumable state. */
  outDir?: string;
  /** Save a resumable checkpoint every this many steps (0: only at the end). */
  checkpointEvery?: number;
  /** Resume from `outDir` when it holds a checkpoint of the same config. */
  resume?: boolean;
  /** Called as step losses are read back (late, see {@link TrainProgress}). */
  onProgress?: (p: TrainProgress) => void;
  /** Called after each validation. */
  onEval?: (p: { step: number; tokens: number; valLoss: number }) => void;
  /** Called once with what the data source offers (optional extension). */
  onData?: (d: { source: string; trainTokens: number; valTokens: number; entropyRate?: number }) => void;
  /** Abort between steps; the run then throws after saving nothing partial. */
  signal?: AbortSignal;
  /**
   * Branch checkpoints (prefix sharing, lib/sweep/sharing.ts): when the run has completed `step` steps it
   * also saves its state as a checkpoint of `config` (a WSD run that differs from this one only in
   * `steps`, whose decay begins at `step`) into `outDir`, so that run resumes from there. `claim`, when
   * given, is asked first: null skips the branch (that run is locked or has its own checkpoint), a
   * function is called once the checkpoint is written (e.g. to release a lock).
   */
  branches?: { step: number; config: TrainConfig; outDir: string; claim?: () => (() => void) | null }[];
}

/** Outcome of a run. `diverged` runs carry the last finite losses. */
export interface TrainResult {
  /** `diverged` when a loss turned NaN/Inf. */
  status: "finished" | "diverged";
  /** N: block parameters plus the final norm (the scaling-law N). */
  nonEmbeddingParams: number;
  /** N plus embedding and lm_head. */
  totalParams: number;
  /** Training tokens seen. */
  tokens: number;
  /** Total optimizer steps. */
  steps: number;
  /** Validation loss at the end (nats/token), forward quantizers active. */
  finalValLoss: number;
  /** Mean training loss over the last steps. */
  finalTrainLoss: number;
  /** Training throughput. */
  tokensPerSecond: number;
  /** Wall time of this call. */
  wallSeconds: number;
  /** WebGPU adapter the run trained on. */
  adapter: string;
  /** Training curve. */
  curve: CurvePoint[];
  /** Distinct training tokens the data source offers (windows × context); optional extension. */
  availableTokens?: number;
  /** Passes over the training data (tokens / availableTokens; > 1 means data repeated); optional extension. */
  epochs?: number;
  /** Exact entropy rate of the data source in nats/token when known (synthetic sources); optional extension. */
  entropyRate?: number;
}
