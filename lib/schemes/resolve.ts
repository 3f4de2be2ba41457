/**
 * Recipes as data: a run's forward/backward labels (SchemeChoice) are resolved up front into the records the
 * linear layers run ({@link LinearScheme}, six operand hooks), from the catalogue (lib/schemes/catalog.ts) or
 * from inline definitions carried in the choice itself. No registry: the same choice always resolves to the
 * same record, wherever it is resolved.
 * @module
 */
import type { SchemeChoice } from "../engine/api.ts";
import type { LinearScheme, OperandPrep } from "../layers/linear.ts";
import { BACKWARD, FORWARD, withLmHead } from "./catalog.ts";
import { compileBackward, compileForward } from "./compile.ts";
import type { BackwardHalf, ForwardHalf } from "./types.ts";

/**
 * BF16 round-to-nearest-even of an f32, in WGSL: the hook of the fp32/bf16 baseline, whose `bf16` field lets
 * the linear layer read packed BF16 textures.
 */
export const BF16_ROUND_WGSL = `fn bf16_round(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7f800000u) == 0x7f800000u) { return x; }
  return bitcast<f32>((b + 0x7fffu + ((b >> 16u) & 1u)) & 0xffff0000u);
}`;

/** BF16 rounding of a JS number (RNE), the reference of {@link BF16_ROUND_WGSL}. */
export function bf16Round(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  const b = u[0];
  if ((b & 0x7f800000) === 0x7f800000) return f[0];
  u[0] = ((b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000) >>> 0;
  return f[0];
}

/** Operand prep: round every value to BF16 (f32 accumulate in the GEMM). */
export const BF16_PREP: OperandPrep = {
  id: "bf16",
  group: 1,
  bf16: BF16_ROUND_WGSL,
  wgsl: `${BF16_ROUND_WGSL}
fn prep(v: ptr<function, array<f32, 1>>, g: ptr<function, array<f32, 1>>, seed: u32) {
  (*v)[0] = bf16_round((*v)[0]);
}`,
};

/** Forward hooks of a label; `modules` overrides them per module name (qkv, o, gate_up, down). */
export type ForwardHooks = LinearScheme["fwd"] & { modules?: Record<string, LinearScheme["fwd"]> };
/** Backward hooks of a label. */
export type BackwardHooks = LinearScheme["bwd"];

const OWN_FWD: Record<string, ForwardHooks> = { fp32: {}, bf16: { x: BF16_PREP, w: BF16_PREP } };
const OWN_BWD: Record<string, BackwardHooks> = {
  fp32: {},
  bf16: { dxDy: BF16_PREP, dxW: BF16_PREP, dwDy: BF16_PREP, dwX: BF16_PREP },
};

/** The forward half of a catalogue label ("<label>+lm_head": the label's recipe on lm_head too). */
function forwardHalf(label: string): ForwardHalf | undefined {
  if (FORWARD[label]) return FORWARD[label];
  const m = /^(.*)\+lm_head$/.exec(label);
  const h = m ? FORWARD[m[1]] : undefined;
  return h && (h.x || h.w) ? withLmHead(h) : undefined;
}

/** Known catalogue labels per direction (inline definitions travel in the choice and are not listed). */
export function schemeLabels(): { fwd: string[]; bwd: string[] } {
  const fwd = Object.keys(FORWARD);
  for (const [label, h] of Object.entries(FORWARD)) if (h.x || h.w) fwd.push(`${label}+lm_head`);
  return { fwd, bwd: Object.keys(BACKWARD) };
}

/** The forward hooks of a choice; throws one clear line for an unknown label. */
function forwardHooks(choice: SchemeChoice): ForwardHooks {
  if (OWN_FWD[choice.fwd]) return OWN_FWD[choice.fwd];
  const h = choice.fwdDef ?? forwardHalf(choice.fwd);
  if (!h) {
    throw new Error(`unknown forward scheme "${choice.fwd}" (known: ${schemeLabels().fwd.join(", ")})`);
  }
  return compileForward(h as ForwardHalf);
}

/** The backward hooks of a choice; throws one clear line for an unknown label. */
function backwardHooks(choice: SchemeChoice): BackwardHooks {
  if (OWN_BWD[choice.bwd]) return OWN_BWD[choice.bwd];
  const h = choice.bwdDef ?? BACKWARD[choice.bwd];
  if (!h) {
    throw new Error(`unknown backward scheme "${choice.bwd}" (known: ${schemeLabels().bwd.join(", ")})`);
  }
  return compileBackward(h as BackwardHalf);
}

/** Resolves a scheme choice into the recipe record of the linear layers; throws one clear line for an unknown label. */
export function resolveRecipe(choice: SchemeChoice): LinearScheme {
  const f = forwardHooks(choice);
  const b = backwardHooks(choice);
  const name = `${choice.fwd}:${choice.bwd}`;
  const { modules, ...fwd } = f;
  if (!modules) return { name, fwd, bwd: b };
  const per = Object.fromEntries(Object.entries(modules).map(([m, h]) => [m, { name, fwd: h, bwd: b }]));
  return { name, fwd, bwd: b, modules: per };
}
