/**
 * `--form ./my-law.ts`: a law form from the user's module. The module's default export (or its export named
 * `form`) is a FormSpec (lib/fit/law.ts) or a complete LawForm; without `gradient: true` the gradient is
 * taken by central finite differences. Problems are one-line FitInputErrors.
 * @module
 */
import { FitInputError } from "./errors.ts";
import { defineForm, type FormSpec } from "./law.ts";
import type { LawForm } from "./types.ts";

/** Whether a --form value names a module file rather than a built-in form. */
export function isFormPath(name: string): boolean {
  return name.includes("/") || /\.(ts|js|mjs|mts)$/.test(name);
}

/** Imports a form module relative to the working directory. */
export async function loadForm(path: string): Promise<LawForm> {
  const url = new URL(path, `file://${Deno.cwd()}/`);
  try {
    await Deno.stat(url);
  } catch {
    throw new FitInputError(`form module ${path} does not exist`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(url.href);
  } catch (e) {
    throw new FitInputError(
      `cannot load form module ${path}: ${String((e as Error).message).split("\n")[0]}`,
    );
  }
  const exp = (mod.default ?? mod.form) as FormSpec | LawForm | undefined;
  if (typeof exp !== "object" || exp === null) {
    throw new FitInputError(
      `${path} exports no law form (export default { name, names, starts, lnPredict })`,
    );
  }
  const complete = typeof (exp as LawForm).layout === "function" &&
    typeof (exp as LawForm).scheme === "function";
  const form = complete ? exp as LawForm : defineForm(exp as FormSpec);
  form.grid({ baseline: "bf16", bitsColumns: [], labels: [] }); // validates names and starts now
  return form;
}
