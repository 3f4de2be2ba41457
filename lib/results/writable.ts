/**
 * Output-directory checks done before any work: the directory is created and a probe file written and
 * removed, and a failure becomes one InputError line that says why and what to do instead.
 * @module
 */
import { InputError } from "../spec/errors.ts";

/** Why a directory cannot be used, in words, and what to do (`flag` names the option that chooses it). */
function reason(e: unknown, flag: string): string {
  if (e instanceof Deno.errors.NotCapable) {
    return `it is outside the folders this task may write (results/); choose one under results/ with ${flag}`;
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return `permission denied; choose another folder with ${flag}`;
  }
  if (e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotADirectory) {
    return `a file is in the way; choose another folder with ${flag}`;
  }
  const first = (e as Error)?.message?.split("\n")[0] ?? String(e);
  return `${first}; choose another folder with ${flag}`;
}

/**
 * Creates `dir` (with parents) and proves it writable; InputError `WHAT DIR cannot be written: WHY`
 * otherwise. `what` names the directory ("results directory"), `flag` the option that moves it.
 */
export async function ensureWritableDir(dir: string, what: string, flag: string): Promise<void> {
  const probe = `${dir.replace(/\/+$/, "") || "/"}/.write-probe-${Deno.pid}.tmp`;
  try {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (e) {
    throw new InputError(`${what} ${dir} cannot be written: ${reason(e, flag)}`);
  }
}

/**
 * Proves `dir` readable when it exists (a missing one is fine: nothing was written yet); InputError
 * otherwise, e.g. a folder outside what the task may read.
 */
export async function ensureReadableDir(dir: string, what: string, flag: string): Promise<void> {
  try {
    await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    const why = e instanceof Deno.errors.NotCapable
      ? `it is outside the folders this task may read (the project); choose one under results/ with ${flag}`
      : reason(e, flag);
    throw new InputError(`${what} ${dir} cannot be read: ${why}`);
  }
}
