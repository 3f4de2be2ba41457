/**
 * Inline scheme definitions: checks an inline forward/backward half and names it
 * `<name>.<hash of the definition>`, so that the label (and with it every run id) changes whenever the
 * definition does. The definition itself travels with the label in the run's SchemeChoice (no registry).
 * @module
 */
import { compileOperand } from "../schemes/compile.ts";
import { elementOf } from "../schemes/reference.ts";
import type { BackwardHalf, ForwardHalf, OperandQuant } from "../schemes/types.ts";
import { canonicalJson, fnv1aHex } from "./hash.ts";
import type { BackwardDef, ForwardDef, OperandQuantDef } from "./schema.ts";
import type { Problem } from "./errors.ts";

/** Problems of one inline operand (empty when it compiles), each a one-line message. */
export function operandProblems(op: OperandQuantDef): string[] {
  const out: string[] = [];
  if (op.element === "centred") {
    if (!op.centred) out.push(`element "centred" needs centred: {bits, alpha}`);
    if (op.scale.rule !== "rms") out.push(`element "centred" needs scale.rule "rms"`);
  } else {
    try {
      elementOf(op as OperandQuant);
    } catch (e) {
      out.push((e as Error).message);
    }
    if (op.scale.rule === "rms") out.push(`scale.rule "rms" is only for element "centred"`);
  }
  if (op.scale.granularity === "block" && op.scale.block === undefined) {
    out.push(`block scales need scale.block`);
  }
  if (["ocp", "quest", "quest-round"].includes(op.scale.rule) && op.scale.type !== "e8m0") {
    out.push(`scale.rule "${op.scale.rule}" needs scale.type "e8m0"`);
  }
  if (op.estimator === "dge" && !op.dge) out.push(`estimator "dge" needs dge: {k, clamp}`);
  if (!out.length) {
    try {
      // Generates the operand's WGSL for a typical reduction length: catches what the data model allows
      // but the kernel generator does not.
      compileOperand(op as OperandQuant).forLength!(256);
    } catch (e) {
      out.push((e as Error).message);
    }
  }
  return out;
}

function check(ops: [string, OperandQuantDef | undefined][], where: string, problems: Problem[]): void {
  for (const [key, op] of ops) {
    if (op) { for (const p of operandProblems(op)) problems.push({ message: p, path: `${where}.${key}` }); }
  }
}

/** Checks an inline forward half; returns its label and (when valid) the half as scheme data. */
export function inlineForward(
  name: string,
  def: ForwardDef,
  where: string,
  problems: Problem[],
): { label: string; half?: ForwardHalf } {
  const label = `${name}.${fnv1aHex(canonicalJson(def))}`;
  const before = problems.length;
  check([["x", def.x], ["w", def.w]], where, problems);
  for (const [m, o] of Object.entries(def.modules ?? {})) {
    check([["x", o?.x], ["w", o?.w]], `${where}.modules.${m}`, problems);
  }
  if (problems.length !== before) return { label };
  return {
    label,
    half: { label, description: def.description ?? `inline forward of ${name}`, ...def } as ForwardHalf,
  };
}

/** Checks an inline backward half; returns its label and (when valid) the half as scheme data. */
export function inlineBackward(
  name: string,
  def: BackwardDef,
  where: string,
  problems: Problem[],
): { label: string; half?: BackwardHalf } {
  const label = `${name}.${fnv1aHex(canonicalJson(def))}`;
  const before = problems.length;
  check([["dxDy", def.dxDy], ["dxW", def.dxW], ["dwDy", def.dwDy], ["dwX", def.dwX]], where, problems);
  if (problems.length !== before) return { label };
  return {
    label,
    half: { label, description: def.description ?? `inline backward of ${name}`, ...def } as BackwardHalf,
  };
}

/** Element bits of an inline half: its widest quantized operand (32 when it quantizes nothing). */
export function inlineBits(def: ForwardDef | BackwardDef): number {
  const ops = Object.entries(def)
    .filter(([k]) => k !== "description" && k !== "modules")
    .map(([, v]) => v as OperandQuantDef | undefined)
    .filter((o): o is OperandQuantDef => o !== undefined);
  const bits = ops.map((op) =>
    op.centred ? op.centred.bits : (() => {
      try {
        return elementOf(op as OperandQuant).bits;
      } catch {
        return 32;
      }
    })()
  );
  return bits.length ? Math.max(...bits) : 32;
}
