/**
 * Size of a data source's training split, for the dry run's "would repeat training data" warning.
 * A Markov source's size is computed from its options: the dry run never generates a corpus.
 * @module
 */
import { sourceTrainTokens } from "../data/sources.ts";

/** Training tokens of a data source, or undefined when it cannot be loaded. */
export function dataTrainTokens(data: string): Promise<number | undefined> {
  try {
    return Promise.resolve(sourceTrainTokens(data));
  } catch {
    return Promise.resolve(undefined);
  }
}
