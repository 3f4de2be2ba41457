/**
 * The one error type for bad input: the CLI prints its message and exits 2 before any work.
 * @module
 */

/** Bad input (spec, flags, results directory); `message` is ready to print as is. */
export class InputError extends Error {
  /** Process exit code the CLI uses for it. */
  readonly exitCode = 2;
  /** @param message one line, or zod's prettified list for a spec */
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}
