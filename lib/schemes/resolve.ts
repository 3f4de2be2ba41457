/**
 * Recipes as data: a run's forward/backward labels (SchemeChoice) are resolved up front into the records the
 * linear layers run ({@link LinearScheme}, six operand hooks), from the catalogue (lib/schemes/catalog.ts) or
 * from inline definitions carried in the choice itself. No registry: the same choice always resolves to the
 * same record, wherever it is resolved. fp32 and bf16 are catalogue labels like any other (the BF16 rounding
 * is the formats library's generated one).
 * @module
 */
import type { SchemeChoice } from "../engine/api.ts";
import type { LinearScheme } from "../layers/linear.ts";
import { BACKWARD, FORWARD, withLmHead } from "./catalog.ts";
import { compileBackward, compileForward } from "./compile.ts";
import type { BackwardHalf, ForwardHalf } from "./types.ts";

/** Forward hooks of a label; `modules` overrides them per module name (qkv, o, gate_up, down). */
export type ForwardHooks = LinearScheme["fwd"] & { modules?: Record<string, LinearScheme["fwd"]> };
/** Backward hooks of a label. */
export type BackwardHooks = LinearScheme["bwd"];

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
  const h = choice.fwdDef ?? forwardHalf(choice.fwd);
  if (!h) {
    throw new Error(`unknown forward scheme "${choice.fwd}" (known: ${schemeLabels().fwd.join(", ")})`);
  }
  return compileForward(h as ForwardHalf);
}

/** The backward hooks of a choice; throws one clear line for an unknown label. */
function backwardHooks(choice: SchemeChoice): BackwardHooks {
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
