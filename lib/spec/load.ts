/**
 * Loads a spec file: a TypeScript module whose default export is `defineExperiment({...})`, or JSON.
 * @module
 */
import { InputError } from "./errors.ts";
import type { Experiment } from "./schema.ts";
import { parseExperiment } from "./validate.ts";

/** A loaded, validated spec and the file it came from. */
export interface LoadedSpec {
  spec: Experiment;
  path: string;
}

/** Absolute file URL of a path relative to the working directory. */
function toFileUrl(path: string): string {
  const abs = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  return new URL(`file://${abs.split("/").map(encodeURIComponent).join("/")}`).href;
}

/** Reads and validates a spec; every failure is an InputError (exit 2), raised before any work. */
export async function loadSpec(path: string): Promise<LoadedSpec> {
  let raw: unknown;
  try {
    await Deno.stat(path);
  } catch {
    throw new InputError(`spec not found: ${path}`);
  }
  if (/\.json$/i.test(path)) {
    try {
      raw = JSON.parse(await Deno.readTextFile(path));
    } catch (e) {
      throw new InputError(`spec ${path} is not valid JSON: ${(e as Error).message}`);
    }
  } else if (/\.(ts|js|mts|mjs)$/i.test(path)) {
    let mod: Record<string, unknown>;
    try {
      mod = await import(toFileUrl(path));
    } catch (e) {
      throw new InputError(`spec ${path} failed to load: ${(e as Error).message.split("\n")[0]}`);
    }
    if (!("default" in mod)) {
      throw new InputError(`spec ${path} has no default export (defineExperiment({...}))`);
    }
    raw = mod.default;
  } else {
    throw new InputError(`spec ${path}: expected a .ts module or a .json file`);
  }
  return { spec: parseExperiment(raw, path), path };
}
