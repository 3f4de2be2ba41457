/**
 * The demo sweep (experiments/quartet-tiny.ts) as one call, for `deno task demo` (cli/demo.ts):
 * trains every pending run with the progress display, rebuilds runs.csv and returns the results
 * directory. Re-running it after it finished does no work; after an interruption it resumes.
 * @module
 */
import quartetTiny from "../../experiments/quartet-tiny.ts";
import { parseExperiment } from "../spec/validate.ts";
import type { Sink } from "./progress.ts";
import { runSweep, type SweepSummary } from "./runner.ts";

/** Options of the demo sweep. */
export interface DemoOptions {
  /** Results root (default "results"): the demo writes `<root>/quartet-tiny/`. */
  resultsRoot?: string;
  /** Progress line sink (default: stderr, rewritten in place on a terminal). */
  sink?: Sink;
  /** Stops after the current step; the next call resumes. */
  signal?: AbortSignal;
}

/** Runs the quartet-tiny sweep; resolves to the results directory and what the sweep did. */
export async function runDemoSweep(opts: DemoOptions = {}): Promise<{ dir: string; summary: SweepSummary }> {
  const spec = parseExperiment(quartetTiny, "experiments/quartet-tiny.ts");
  const summary = await runSweep({
    spec,
    resultsRoot: opts.resultsRoot,
    sink: opts.sink,
    signal: opts.signal,
  });
  return { dir: summary.dir, summary };
}
