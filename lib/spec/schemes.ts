/**
 * Resolves spec scheme entries against the engine's scheme labels, with "closest names" suggestions.
 * @module
 */
import { InputError } from "./errors.ts";
import type { SchemeEntry } from "./schema.ts";
import { unknownNameMessage } from "./suggest.ts";

/** A scheme as a run uses it. */
export interface ResolvedScheme {
  /** Name in results, filters and run ids. */
  name: string;
  fwd: string;
  bwd: string;
  /** Element bits of the forward / backward GEMM operands (32 fp32, 16 bf16, else the scheme's format). */
  fwdBits: number;
  bwdBits: number;
}

/** What the sweep knows about one engine label. */
export interface LabelInfo {
  /** Element bits of its GEMM operands. */
  bits: number;
}

/** The labels the engine accepts today (fp32, bf16); replaced by the engine's registry once it exports one. */
export function knownLabels(): Map<string, LabelInfo> {
  return new Map([["fp32", { bits: 32 }], ["bf16", { bits: 16 }]]);
}

/** Resolves every entry; unknown labels are collected into one InputError with suggestions. */
export function resolveSchemes(
  entries: SchemeEntry[],
  labels: Map<string, LabelInfo> = knownLabels(),
): ResolvedScheme[] {
  const problems: string[] = [];
  const out: ResolvedScheme[] = [];
  const names = [...labels.keys()];
  const bitsOf = (label: string, given: number | undefined, where: string): number => {
    const info = labels.get(label);
    if (!info) {
      problems.push(`${unknownNameMessage("scheme", label, names)}\n  → at ${where}`);
      return NaN;
    }
    return given ?? info.bits;
  };
  entries.forEach((e, i) => {
    if (typeof e === "string") {
      const bits = bitsOf(e, undefined, `schemes[${i}]`);
      out.push({ name: e, fwd: e, bwd: e, fwdBits: bits, bwdBits: bits });
    } else {
      const fwdBits = bitsOf(e.fwd, e.fwdBits, `schemes[${i}].fwd`);
      const bwdBits = bitsOf(e.bwd, e.bwdBits, `schemes[${i}].bwd`);
      const name = e.name ?? (e.fwd === e.bwd ? e.fwd : `${e.fwd}+${e.bwd}`);
      out.push({ name, fwd: e.fwd, bwd: e.bwd, fwdBits, bwdBits });
    }
  });
  const seen = new Set<string>();
  for (const s of out) {
    if (seen.has(s.name)) problems.push(`scheme name "${s.name}" appears twice\n  → at schemes`);
    seen.add(s.name);
  }
  if (problems.length) throw new InputError(`invalid experiment spec:\n✖ ${problems.join("\n✖ ")}`);
  return out;
}
