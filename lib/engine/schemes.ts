/**
 * Registry of forward/backward recipes for the linear layers. `TrainConfig.scheme` names one forward
 * and one backward label; `resolveScheme` turns the pair into the six operand hooks of
 * {@link LinearScheme}. The schemes issue adds labels with `registerForward` / `registerBackward`.
 * @module
 */
import type { SchemeChoice } from "./api.ts";
import type { LinearScheme, OperandPrep } from "./linear.ts";

/**
 * BF16 round-to-nearest-even of an f32, in WGSL. The ONE place the engine defines it; swap for the
 * formats library's function when it lands.
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

const forward = new Map<string, ForwardHooks>([
  ["fp32", {}],
  ["bf16", { x: BF16_PREP, w: BF16_PREP }],
]);
const backward = new Map<string, BackwardHooks>([
  ["fp32", {}],
  ["bf16", { dxDy: BF16_PREP, dxW: BF16_PREP, dwDy: BF16_PREP, dwX: BF16_PREP }],
]);

/** Adds (or replaces) a forward label. */
export function registerForward(label: string, hooks: ForwardHooks): void {
  forward.set(label, hooks);
}

/** Adds (or replaces) a backward label. */
export function registerBackward(label: string, hooks: BackwardHooks): void {
  backward.set(label, hooks);
}

/** Known labels. */
export function schemeLabels(): { fwd: string[]; bwd: string[] } {
  return { fwd: [...forward.keys()], bwd: [...backward.keys()] };
}

/** Resolves a scheme choice; throws one clear line for an unknown label. */
export function resolveScheme(choice: SchemeChoice): LinearScheme {
  const f = forward.get(choice.fwd);
  if (!f) {
    throw new Error(`unknown forward scheme "${choice.fwd}" (known: ${[...forward.keys()].join(", ")})`);
  }
  const b = backward.get(choice.bwd);
  if (!b) {
    throw new Error(`unknown backward scheme "${choice.bwd}" (known: ${[...backward.keys()].join(", ")})`);
  }
  const name = `${choice.fwd}:${choice.bwd}`;
  const { modules, ...fwd } = f;
  if (!modules) return { name, fwd, bwd: b };
  const per = Object.fromEntries(Object.entries(modules).map(([m, h]) => [m, { name, fwd: h, bwd: b }]));
  return { name, fwd, bwd: b, modules: per };
}
