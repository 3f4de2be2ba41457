/**
 * Resolves spec scheme entries against the engine's scheme registry (separate forward and backward
 * labels), with "closest names" suggestions for unknown labels.
 *
 * Bits rule (the registry does not expose bits): an entry's explicit `fwdBits`/`bwdBits` win; else
 * fp32 → 32, bf16/fp16 → 16; else the number after fp/int/mxfp/nvfp in the label (mxfp4 → 4,
 * int8 → 8); else 4, since every other label of this lab is an FP4 recipe.
 * @module
 */
import { schemeLabels } from "../engine/schemes.ts";
import { InputError } from "./errors.ts";
import type { SchemeEntry } from "./schema.ts";
import { unknownNameMessage } from "./suggest.ts";

/** A scheme as a run uses it. */
export interface ResolvedScheme {
  /** Name in results, filters and run ids. */
  name: string;
  fwd: string;
  bwd: string;
  /** Element bits of the forward / backward GEMM operands (see the bits rule above). */
  fwdBits: number;
  bwdBits: number;
}

/** The labels the engine accepts, per direction. */
export interface SchemeLabels {
  fwd: string[];
  bwd: string[];
}

/** The engine's current labels (including any registered by scheme modules loaded so far). */
export function knownLabels(): SchemeLabels {
  return schemeLabels();
}

/** Element bits of a label by the rule in the module doc. */
export function labelBits(label: string): number {
  const l = label.toLowerCase();
  if (l === "fp32") return 32;
  if (l === "bf16" || l === "fp16") return 16;
  const m = /(?:fp|int|mxfp|nvfp)(\d+)/.exec(l);
  return m ? Number(m[1]) : 4;
}

/** Resolves every entry; unknown labels are collected into one InputError with suggestions. */
export function resolveSchemes(
  entries: SchemeEntry[],
  labels: SchemeLabels = knownLabels(),
): ResolvedScheme[] {
  const problems: string[] = [];
  const check = (label: string, dir: "fwd" | "bwd", where: string) => {
    if (!labels[dir].includes(label)) {
      const kind = dir === "fwd" ? "forward scheme" : "backward scheme";
      problems.push(`${unknownNameMessage(kind, label, labels[dir])}\n  → at ${where}`);
    }
  };
  const out = entries.map((e, i): ResolvedScheme => {
    if (typeof e === "string") {
      check(e, "fwd", `schemes[${i}]`);
      if (labels.fwd.includes(e)) check(e, "bwd", `schemes[${i}]`);
      return { name: e, fwd: e, bwd: e, fwdBits: labelBits(e), bwdBits: labelBits(e) };
    }
    check(e.fwd, "fwd", `schemes[${i}].fwd`);
    check(e.bwd, "bwd", `schemes[${i}].bwd`);
    return {
      name: e.name ?? (e.fwd === e.bwd ? e.fwd : `${e.fwd}+${e.bwd}`),
      fwd: e.fwd,
      bwd: e.bwd,
      fwdBits: e.fwdBits ?? labelBits(e.fwd),
      bwdBits: e.bwdBits ?? labelBits(e.bwd),
    };
  });
  const seen = new Set<string>();
  for (const s of out) {
    if (seen.has(s.name)) problems.push(`scheme name "${s.name}" appears twice\n  → at schemes`);
    seen.add(s.name);
  }
  if (problems.length) throw new InputError(`invalid experiment spec:\n✖ ${problems.join("\n✖ ")}`);
  return out;
}
