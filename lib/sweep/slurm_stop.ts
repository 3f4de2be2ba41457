/**
 * Stopping a sweep at a checkpoint (SIGTERM from Slurm before a time limit or on preemption), and the
 * machine name recorded with each run.
 *
 * The engine saves a resumable checkpoint every `checkpointEvery` steps and reports a step's loss while
 * that step's checkpoint is being written (the save drains the loss ring first), before it looks at its
 * abort signal again. So aborting the run when the report of a checkpoint step arrives stops it right after
 * that checkpoint: nothing trained is lost and the next invocation resumes there. If no checkpoint comes
 * within the grace period (or the spec has `checkpointEvery: 0`), the run is aborted anyway so the task can
 * exit and be requeued before Slurm kills it; it then loses the steps since its last checkpoint.
 * @module
 */

/** One run's "stop at the next checkpoint" state (create one per run). */
export class StopAtCheckpoint {
  #ctl?: AbortController;
  #timer?: ReturnType<typeof setTimeout>;
  #requested = false;
  #stopped = false;
  readonly #onAbort = () => this.#request();

  /**
   * @param signal fires when the sweep should stop (the SIGTERM handler aborts it)
   * @param checkpointEvery the spec's checkpoint interval in steps (0: only at the end)
   * @param graceSeconds longest wait for the next checkpoint before aborting the run anyway
   */
  constructor(
    readonly signal: AbortSignal,
    readonly checkpointEvery: number,
    readonly graceSeconds: number,
  ) {}

  /** True once this object aborted the run. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** The stop signal's reason (what the sweep throws). */
  get reason(): unknown {
    return this.signal.reason;
  }

  /** Starts watching for a run trained under `ctl` (aborted when it is time to stop). */
  attach(ctl: AbortController): void {
    this.#ctl = ctl;
    if (this.signal.aborted) this.#request();
    else this.signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Called with every reported step: stops the run when `step` is a step the engine checkpoints. */
  onStep(step: number, steps: number): void {
    if (this.#requested && this.checkpointEvery > 0 && step % this.checkpointEvery === 0 && step < steps) {
      this.#abort();
    }
  }

  /** Stops watching (the run ended). */
  detach(): void {
    this.signal.removeEventListener("abort", this.#onAbort);
    clearTimeout(this.#timer);
  }

  #request(): void {
    if (this.#requested) return;
    this.#requested = true;
    if (this.checkpointEvery <= 0) return this.#abort();
    this.#timer = setTimeout(() => this.#abort(), this.graceSeconds * 1000);
  }

  #abort(): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    this.#stopped = true;
    this.#ctl?.abort(this.signal.reason);
  }
}

/**
 * This machine's host name for runs.csv, or null when the process may not read it (the tasks grant
 * `--allow-sys=hostname`; a library caller without it gets an empty cell, never a permission prompt).
 */
export function hostName(): string | null {
  try {
    if (Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state !== "granted") return null;
    return Deno.hostname();
  } catch {
    return null;
  }
}
