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

/**
 * The InputError for a file the task could not read: missing, outside what the task may read (Deno's
 * --allow-read), or denied by the file system; each says what to do.
 */
export function unreadable(what: string, path: string, e: unknown): InputError {
  if (e instanceof Deno.errors.NotFound) return new InputError(`${what} ${path} does not exist`);
  if (e instanceof Deno.errors.NotCapable) {
    return new InputError(
      `${what} ${path} is outside the folders this task may read (the project and Deno's cache); ` +
        `move or copy it under the project, e.g. into experiments/`,
    );
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return new InputError(`${what} ${path} cannot be read (permission denied); check its permissions`);
  }
  if (e instanceof Deno.errors.IsADirectory) {
    return new InputError(`${what} ${path} is a directory, not a file`);
  }
  return new InputError(`${what} ${path} cannot be read: ${(e as Error).message.split("\n")[0]}`);
}

/** Reads and validates a spec; every failure is an InputError (exit 2), raised before any work. */
export async function loadSpec(path: string): Promise<LoadedSpec> {
  let raw: unknown;
  try {
    const info = await Deno.stat(path);
    if (info.isDirectory) throw new Deno.errors.IsADirectory(path);
    // Reading (not only stat) proves the task may read it; a module import would fail less clearly.
    await (await Deno.open(path, { read: true })).close();
  } catch (e) {
    throw unreadable("spec", path, e);
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
    if (mod === null || typeof mod !== "object") throw new InputError(`spec ${path} is not a module`);
    if (!Object.hasOwn(mod, "default")) {
      throw new InputError(`spec ${path} has no default export (defineExperiment({...}))`);
    }
    raw = mod.default;
  } else {
    throw new InputError(`spec ${path}: expected a .ts module or a .json file`);
  }
  return { spec: parseExperiment(raw, path), path };
}
