/**
 * Size of a data source's training split, for the dry run's "would repeat training data" warning.
 * @module
 */
import { loadSource } from "../data/sources.ts";

/** Training tokens of a data source, or undefined when it cannot be loaded. */
export function dataTrainTokens(data: string): Promise<number | undefined> {
  try {
    return Promise.resolve(loadSource(data).train.length);
  } catch {
    return Promise.resolve(undefined);
  }
}
