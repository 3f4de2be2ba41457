/**
 * Checks a spec's data source name against the data module, with "did you mean" suggestions.
 * @module
 */
import { parseMarkov, SOURCE_NAMES } from "../data/sources.ts";
import { InputError } from "./errors.ts";
import { unknownNameMessage } from "./suggest.ts";

/** Throws InputError (path `data`) for an unknown source or bad markov options; cheap (loads nothing). */
export function checkDataSource(data: string): void {
  const base = data.split(":")[0];
  let problem: string | undefined;
  if (!(SOURCE_NAMES as readonly string[]).includes(base)) {
    problem = unknownNameMessage("data source", data, [...SOURCE_NAMES]);
  } else if (base === "markov") {
    try {
      parseMarkov(data);
    } catch (e) {
      problem = (e as Error).message;
    }
  }
  if (problem) throw new InputError(`invalid experiment spec:\n✖ ${problem}\n  → at data`);
}
