/**
 * A task's outermost frame: runs its main and exits with the code it returns; bad input (an InputError)
 * becomes one line `task: message` on stderr and exit 2, with no stack trace.
 * @module
 */
import { InputError, taskMessage } from "../spec/errors.ts";

/** Runs `main` and exits with its code; an InputError: one line `task: message`, exit 2; anything else is rethrown. */
export async function runTask(task: string, main: () => Promise<number>): Promise<never> {
  try {
    Deno.exit(await main());
  } catch (e) {
    if (e instanceof InputError) {
      console.error(taskMessage(task, e.message));
      Deno.exit(2);
    }
    throw e;
  }
}
