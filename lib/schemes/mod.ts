/**
 * Quantization schemes as data: importing this module registers every forward and backward label of
 * the catalogue in the engine registry (lib/engine/schemes.ts). fp32 and bf16 stay the engine's own.
 * @module
 */
import { registerBackward, registerForward } from "../engine/schemes.ts";
import { BACKWARD, FORWARD, withLmHead } from "./catalog.ts";
import { compileBackward, compileForward } from "./compile.ts";

export * from "./types.ts";
export * from "./catalog.ts";
export * from "./compile.ts";

const ENGINE_OWN = new Set(["fp32", "bf16"]);
for (const [label, h] of Object.entries(FORWARD)) {
  if (!ENGINE_OWN.has(label)) registerForward(label, compileForward(h));
  // "<label>+lm_head": the same forward recipe also on lm_head (which stays f32 by default), with the backward
  // label's hooks on lm_head's backward GEMMs.
  if (h.x || h.w) registerForward(`${label}+lm_head`, compileForward(withLmHead(h)));
}
for (const [label, h] of Object.entries(BACKWARD)) {
  if (!ENGINE_OWN.has(label)) registerBackward(label, compileBackward(h));
}
