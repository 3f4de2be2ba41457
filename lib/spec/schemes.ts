/**
 * Resolves spec scheme entries against the scheme catalogue's labels (lib/schemes/resolve.ts), with
 * "closest names" suggestions for unknown names.
 *
 * A string entry is resolved like `--scheme NAME` (lib/schemes `schemePair`): a preset pair
 * ("quartet" = quest + rtn-bwd), a label of both halves on both, or a one-sided label with BF16 on the
 * other side. `{fwd, bwd}` entries name the two halves directly, each a label or an inline definition
 * (lib/spec/inline.ts checks those; their definitions travel with the resolved scheme).
 *
 * Bits rule: an entry's explicit `fwdBits`/`bwdBits` win; else the element bits of the half's
 * quantized operands (the widest, as the GEMM runs at its widest operand; per-module overrides
 * ignored); a half that quantizes nothing is 32 (fp32).
 * @module
 */
import { BACKWARD, FORWARD, NAMED, schemePair } from "../schemes/catalog.ts";
import type { OperandQuant } from "../schemes/types.ts";
import { ELEMENTS } from "../formats/elements.ts";
import { schemeLabels } from "../schemes/resolve.ts";
import type { BackwardHalf, ForwardHalf } from "../schemes/types.ts";
import { type Problem, specError } from "./errors.ts";
import type { SchemeEntry } from "./schema.ts";
import { unknownNameMessage } from "./suggest.ts";
import { inlineBackward, inlineBits, inlineForward } from "./inline.ts";

/** A scheme as a run uses it. */
export interface ResolvedScheme {
  /** Name in results, filters and run ids. */
  name: string;
  fwd: string;
  bwd: string;
  /** Element bits of the forward / backward GEMM operands (see the bits rule above). */
  fwdBits: number;
  bwdBits: number;
  /** Inline forward definition (when `fwd` names one). */
  fwdDef?: ForwardHalf;
  /** Inline backward definition (when `bwd` names one). */
  bwdDef?: BackwardHalf;
}

/** The labels the engine accepts, per direction, and the preset names. */
export interface SchemeLabels {
  fwd: string[];
  bwd: string[];
  /** Preset pairs by name. */
  presets?: Record<string, { fwd: string; bwd: string }>;
}

/** The engine's current labels plus the catalogue's presets. */
export function knownLabels(): SchemeLabels {
  const presets: Record<string, { fwd: string; bwd: string }> = Object.create(null);
  for (const n of Object.values(NAMED)) presets[n.name] = { fwd: n.fwd, bwd: n.bwd };
  return { ...schemeLabels(), presets };
}

/** Element bits of one operand. */
function operandBits(op: OperandQuant): number {
  if (op.centred) return op.centred.bits;
  const known = Object.hasOwn(ELEMENTS, op.element) ? ELEMENTS[op.element].bits : undefined;
  if (known) return known;
  const m = /(\d+)$/.exec(op.element);
  return m ? Number(m[1]) : 32;
}

/** Element bits of a forward or backward label by the rule in the module doc. */
export function labelBits(label: string, dir: "fwd" | "bwd"): number {
  const half = Object.hasOwn(dir === "fwd" ? FORWARD : BACKWARD, label);
  const ops = half
    ? (dir === "fwd"
      ? [FORWARD[label].x, FORWARD[label].w]
      : [BACKWARD[label].dxDy, BACKWARD[label].dxW, BACKWARD[label].dwDy, BACKWARD[label].dwX])
    : [];
  const bits = ops.filter((o): o is OperandQuant => o !== undefined).map(operandBits);
  return bits.length ? Math.max(...bits) : 32;
}

/** Resolves every entry; unknown names are collected into one InputError with suggestions. */
export function resolveSchemes(
  entries: SchemeEntry[],
  labels: SchemeLabels = knownLabels(),
): ResolvedScheme[] {
  const problems: Problem[] = [];
  const presets = labels.presets ?? {};
  const check = (label: string, dir: "fwd" | "bwd", where: string) => {
    if (!labels[dir].includes(label)) {
      const kind = dir === "fwd" ? "forward scheme" : "backward scheme";
      problems.push({ message: unknownNameMessage(kind, label, labels[dir]), path: where });
    }
  };
  const pairOf = (name: string): { fwd: string; bwd: string } | undefined => {
    if (Object.hasOwn(presets, name)) return presets[name];
    const f = labels.fwd.includes(name), b = labels.bwd.includes(name);
    if (f || b) {
      return labels.presets ? schemePair(name) ?? { fwd: name, bwd: name } : { fwd: name, bwd: name };
    }
    return undefined;
  };
  const out = entries.map((e, i): ResolvedScheme => {
    if (typeof e === "string") {
      const pair = pairOf(e);
      if (!pair) {
        const names = [...new Set([...Object.keys(presets), ...labels.fwd, ...labels.bwd])];
        problems.push({ message: unknownNameMessage("scheme", e, names), path: `schemes[${i}]` });
        return { name: e, fwd: e, bwd: e, fwdBits: NaN, bwdBits: NaN };
      }
      check(pair.fwd, "fwd", `schemes[${i}]`);
      check(pair.bwd, "bwd", `schemes[${i}]`);
      return { name: e, ...pair, fwdBits: labelBits(pair.fwd, "fwd"), bwdBits: labelBits(pair.bwd, "bwd") };
    }
    const fi = typeof e.fwd === "string"
      ? undefined
      : inlineForward(e.name!, e.fwd, `schemes[${i}].fwd`, problems);
    const bi = typeof e.bwd === "string"
      ? undefined
      : inlineBackward(e.name!, e.bwd, `schemes[${i}].bwd`, problems);
    const fwd = fi ? fi.label : e.fwd as string, bwd = bi ? bi.label : e.bwd as string;
    if (typeof e.fwd === "string") check(e.fwd, "fwd", `schemes[${i}].fwd`);
    if (typeof e.bwd === "string") check(e.bwd, "bwd", `schemes[${i}].bwd`);
    return {
      name: e.name ?? (fwd === bwd ? fwd : `${fwd}+${bwd}`),
      fwd,
      bwd,
      fwdBits: e.fwdBits ?? (typeof e.fwd === "string" ? labelBits(fwd, "fwd") : inlineBits(e.fwd)),
      bwdBits: e.bwdBits ?? (typeof e.bwd === "string" ? labelBits(bwd, "bwd") : inlineBits(e.bwd)),
      ...(fi?.half ? { fwdDef: fi.half } : {}),
      ...(bi?.half ? { bwdDef: bi.half } : {}),
    };
  });
  const seen = new Set<string>();
  out.forEach((s, i) => {
    if (seen.has(s.name)) {
      problems.push({ message: `scheme name "${s.name}" appears twice`, path: `schemes[${i}]` });
    }
    seen.add(s.name);
  });
  if (problems.length) throw specError(problems);
  return out;
}
