/**
 * The built-in law forms, one file each; adding a form is one new file plus one line in FORMS.
 * Names are looked up in a Map, so no inherited property (`constructor`, `__proto__`) is ever a form.
 * @module
 */
import { unknownNameMessage } from "../../spec/suggest.ts";
import { FitInputError } from "../errors.ts";
import type { LawForm } from "../types.ts";
import { chinchilla } from "./chinchilla.ts";
import { kumar } from "./kumar.ts";
import { kumarPtq } from "./kumar_ptq.ts";
import { quartet } from "./quartet.ts";
import { quest } from "./quest.ts";

/** Every built-in form, in the order `--help` lists them. */
export const FORMS: readonly LawForm[] = [chinchilla, quartet, kumar, quest, kumarPtq];

const byName: ReadonlyMap<string, LawForm> = new Map(FORMS.map((f) => [f.name, f]));

/** The built-in form of that name, or null. */
export function builtinForm(name: string): LawForm | null {
  return byName.get(name) ?? null;
}

/** Names of the built-in forms. */
export const FORM_NAMES: readonly string[] = FORMS.map((f) => f.name);

/** The built-in form of that name; throws FitInputError naming the closest ones when there is none. */
export function formNamed(name: string): LawForm {
  const f = builtinForm(name);
  if (f) return f;
  throw new FitInputError(
    `${
      unknownNameMessage("--form", name, [...FORM_NAMES, "isoflop"])
    } (or a module path such as ./my-law.ts)`,
  );
}
