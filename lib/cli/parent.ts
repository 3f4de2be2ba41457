/**
 * Ends a task when the process that started it goes away. `deno task X` runs `deno run …` as a child;
 * when `deno task` (or `./fp4lab`) is killed, even with SIGKILL, the child is re-parented and would keep
 * training beside a restarted sweep. Each task polls its parent pid and exits when it changes; its
 * writes are atomic and its runs resumable, so exiting between any two instructions is safe.
 * @module
 */

/** Exit code when the parent went away (as for SIGHUP). */
export const ORPHAN_EXIT = 129;

/** Starts watching the parent (every `ms`); the timer never keeps the process alive. Returns a stop function. */
export function exitWithParent(task: string, ms = 1000): () => void {
  const parent = Deno.ppid;
  const id = setInterval(() => {
    if (Deno.ppid !== parent) {
      console.error(`${task}: the process that started this task (pid ${parent}) is gone; stopping`);
      Deno.exit(ORPHAN_EXIT);
    }
  }, ms);
  Deno.unrefTimer(id);
  return () => clearInterval(id);
}
