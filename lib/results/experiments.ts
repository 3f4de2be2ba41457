/**
 * The experiments a results root holds (its directories), for listings and "did you mean" hints.
 * @module
 */
import { closestNames } from "../spec/suggest.ts";

/** The names of the directories under `root`, unsorted; none when the root cannot be read. */
export async function experimentNames(root: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(root)) if (e.isDirectory) names.push(e.name);
  } catch { /* no root */ }
  return names;
}

/** `; did you mean "a", "b"?` naming the experiments under `root` closest to `name`, or "" when none is close. */
export async function closestExperiments(root: string, name: string): Promise<string> {
  const close = closestNames(name, await experimentNames(root)).map((n) => `"${n}"`);
  return close.length ? `; did you mean ${close.join(", ")}?` : "";
}
