/**
 * Checks a spec's data source name whole (source and markov options) against the data module.
 * @module
 */
import { checkSourceName, SOURCE_NAMES } from "../data/sources.ts";
import { closestNames } from "./suggest.ts";
import type { Problem } from "./errors.ts";

/** The problem of a data source name (path `data`), or undefined when it is fine; cheap (loads nothing). */
export function dataSourceProblem(data: string): Problem | undefined {
  try {
    checkSourceName(data);
    return undefined;
  } catch (e) {
    let message = (e as Error).message;
    const base = data.split(":")[0];
    const close = closestNames(base, SOURCE_NAMES);
    if (/^unknown data source/.test(message) && close.length) {
      message = `unknown data source "${data}"; did you mean ${close.map((c) => `"${c}"`).join(", ")}?`;
    }
    return { message, path: "data" };
  }
}
