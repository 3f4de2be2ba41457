/**
 * Post-training quantization recipes as data (like the training schemes of lib/schemes): each record names its
 * method and that method's settings; formats are lib/formats names. `--bits wXaY` picks the activation width.
 * @module
 */
import type { AdaroundSettings } from "./adaround.ts";
import type { FpqSettings } from "./fpq.ts";
import type { HqditSettings } from "./hqdit.ts";

/** Bit widths a recipe runs at. */
export const BITS = ["w4a4", "w4a6", "w4a8", "w4a16"] as const;
/** One of {@link BITS}. */
export type Bits = typeof BITS[number];

/** Round-to-nearest with absmax scales. */
export interface MinmaxRecipe {
  method: "minmax";
  /** Weight format: an element (per-output-channel scale) or a block preset (its own block scales). */
  format: "e2m1" | "int4" | "mxfp4" | "nvfp4";
}
/** LLM-FP4. */
export interface FpqRecipe extends FpqSettings {
  method: "fpq";
  /** Quantize the embedding table to 4 bits (weight only). */
  embedding: boolean;
}
/** HQ-DiT ladder rung. */
export interface HqditRecipe extends HqditSettings {
  method: "hqdit";
}
/** FP4DiT. */
export interface Fp4ditRecipe extends AdaroundSettings {
  method: "fp4dit";
  /** Weight group length along in-features (128). */
  groupLen: number;
  /** Weight format (E2M1) and the first MLP linear's (E3M0). */
  wFormat: string;
  /** Format of the first MLP linear (gate/up; before the nonlinearity). */
  ff1Format: string;
}

/**
 * A recipe: name, one line, default bits, method settings, and on a DiT which linears it quantizes
 * (`ditScope`: "blocks" = every linear inside the DiT blocks, adaLN modulation included, with the patch /
 * timestep / label embedders and the final layer kept float — HQ-DiT's "all linear layers in every DiT block"
 * and the DiT PTQ convention; "all" = every linear of the model, FP4DiT's "all DiT linear layers").
 */
export type PtqRecipe =
  & { name: string; description: string; bits: Bits; ditScope: "blocks" | "all" }
  & (
    | MinmaxRecipe
    | FpqRecipe
    | HqditRecipe
    | Fp4ditRecipe
  );

const GAMMAS = { lo: 0.01, hi: 1.2, n: 100 };
const CLIPS = [1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5];
const HQ = { rotate: true, actTokens: 256 };
const FP4DIT = {
  method: "fp4dit" as const,
  ditScope: "all" as const,
  groupLen: 128,
  wFormat: "e2m1",
  ff1Format: "e3m0",
  iters: 300,
  lambda: 0.01,
  beta: [20, 2] as [number, number],
  warmup: 0.2,
  lr: 1e-4,
};

/** Every recipe. */
export const RECIPES: readonly PtqRecipe[] = Object.freeze([
  {
    name: "minmax-e2m1",
    description: "RTN E2M1: W per-output-channel absmax, X per-tensor calibration absmax",
    bits: "w4a4",
    ditScope: "blocks",
    method: "minmax",
    format: "e2m1",
  },
  {
    name: "minmax-int4",
    description: "RTN INT4 (symmetric ±7): W per-output-channel absmax, X per-tensor calibration absmax",
    bits: "w4a4",
    ditScope: "blocks",
    method: "minmax",
    format: "int4",
  },
  {
    name: "minmax-mxfp4",
    description: "RTN MXFP4 (E2M1, E8M0 scale per 32) on W and X",
    bits: "w4a4",
    ditScope: "blocks",
    method: "minmax",
    format: "mxfp4",
  },
  {
    name: "minmax-nvfp4",
    description: "RTN NVFP4 (E2M1, E4M3 scale per 16, f32 tensor scale) on W and X",
    bits: "w4a4",
    ditScope: "blocks",
    method: "minmax",
    format: "nvfp4",
  },
  {
    name: "fpq-baseline",
    description:
      "LLM-FP4 search (3 rounds, γ 0.01…1.2 ×100, E3M0/E2M1/E1M2 per layer), per-tensor activation bias",
    bits: "w4a4",
    ditScope: "blocks",
    method: "fpq",
    perChannel: false,
    rounds: 3,
    gammas: GAMMAS,
    actTokens: 128,
    embedding: true,
  },
  {
    name: "fpq",
    description: "LLM-FP4 with pre-shifted per-channel activation exponent biases ρ folded into the weights",
    bits: "w4a4",
    ditScope: "blocks",
    method: "fpq",
    perChannel: true,
    rounds: 3,
    gammas: GAMMAS,
    actTokens: 128,
    embedding: true,
  },
  {
    name: "hqdit-rot",
    description: "HQ-DiT rung 1 (reconstructed): random-sign Hadamard folded into W, RTN E2M1",
    bits: "w4a4",
    ditScope: "blocks",
    method: "hqdit",
    ...HQ,
    formatChoice: false,
    clips: [],
    gptq: false,
  },
  {
    name: "hqdit-rot-fmt",
    description: "HQ-DiT rung 2: + per-layer W/X format choice by MSE",
    bits: "w4a4",
    ditScope: "blocks",
    method: "hqdit",
    ...HQ,
    formatChoice: true,
    clips: [],
    gptq: false,
  },
  {
    name: "hqdit-rot-fmt-clip",
    description: "HQ-DiT rung 3: + clip search r ∈ {1.0, 0.95, …, 0.5}",
    bits: "w4a4",
    ditScope: "blocks",
    method: "hqdit",
    ...HQ,
    formatChoice: true,
    clips: CLIPS,
    gptq: false,
  },
  {
    name: "hqdit",
    description: "HQ-DiT (reconstructed): rotation + format choice + clip + FP-GPTQ weights",
    bits: "w4a4",
    ditScope: "blocks",
    method: "hqdit",
    ...HQ,
    formatChoice: true,
    clips: CLIPS,
    gptq: true,
  },
  {
    name: "fp4dit",
    description: "FP4DiT: W E2M1 groups of 128 (gate/up E3M0), scale-aware FP AdaRound, online per-token X",
    bits: "w4a8",
    ...FP4DIT,
    scaleAware: true,
  },
  {
    name: "fp4dit-adaround",
    description: "FP4DiT ablation: plain AdaRound on the FP grid",
    bits: "w4a8",
    ...FP4DIT,
    scaleAware: false,
  },
]);

/** Recipe names. */
export function recipeNames(): string[] {
  return RECIPES.map((r) => r.name);
}

/** A recipe by name; throws one line naming the choices. */
export function recipeByName(name: string): PtqRecipe {
  const r = RECIPES.find((x) => x.name === name);
  if (!r) throw new Error(`unknown recipe "${name}" (known: ${recipeNames().join(", ")})`);
  return r;
}

/** Parses `wXaY`; throws one line. */
export function parseBits(text: string): { bits: Bits; w: number; a: number } {
  if (!(BITS as readonly string[]).includes(text)) {
    throw new Error(`bad --bits "${text}" (choose ${BITS.join(", ")})`);
  }
  const m = /^w(\d+)a(\d+)$/.exec(text)!;
  return { bits: text as Bits, w: Number(m[1]), a: Number(m[2]) };
}

/** The activation element format of RTN-style recipes at an activation width (null: a16, no quantizer). */
export function actFormat(base: "e2m1" | "int4" | "fp4dit", a: number): string | null {
  if (a >= 16) return null;
  if (base === "int4") return `int${a}`;
  if (base === "fp4dit") return a === 4 ? "e2m1" : a === 6 ? "e2m3" : "e3m4";
  return a === 4 ? "e2m1" : a === 6 ? "e2m3" : "e4m3";
}

/** The activation preset of the block recipes at an activation width (MX of that width above 4 bits). */
export function actPreset(base: "mxfp4" | "nvfp4", a: number): string | null {
  if (a >= 16) return null;
  return a === 4 ? base : a === 6 ? "mxfp6_e2m3" : "mxfp8_e4m3";
}
