/**
 * The fitter's input error: bad data or options, reported as one line and exit 2 before any fitting.
 * @module
 */

/** Bad fit input; the CLI prints the message as one line and exits 2. */
export class FitInputError extends Error {
  /** Error name, for logs. */
  override name = "FitInputError";
}
