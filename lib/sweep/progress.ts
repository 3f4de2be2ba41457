/**
 * The sweep's progress display on stderr: sweep position, the current run's step, tokens/s, loss, the
 * run's and the sweep's ETA. On a terminal one line is rewritten in place; otherwise a line is printed
 * every few seconds (CI logs, tests).
 * @module
 */
import type { TrainProgress } from "../engine/api.ts";
import { formatDuration, formatSi } from "./format.ts";

/** Where progress lines go; `(text) => void` so callers (demo, tests) can capture them. */
export type Sink = (line: string, transient: boolean) => void;

/** A sink writing to stderr; transient lines are rewritten in place on a terminal. */
export function stderrSink(): Sink {
  const tty = Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  let lastPrint = 0;
  return (line, transient) => {
    if (tty) {
      if (transient && performance.now() - lastPrint < 100) return; // ~10 redraws a second is plenty
      lastPrint = performance.now();
      Deno.stderr.writeSync(enc.encode(`\r\x1b[K${line}${transient ? "" : "\n"}`));
    } else if (!transient || performance.now() - lastPrint > 5000) {
      lastPrint = performance.now();
      Deno.stderr.writeSync(enc.encode(`${line}\n`));
    }
  };
}

/** What the progress display needs to know about each run it will train. */
export interface ProgressRun {
  id: string;
  /** Runs with the same key train at the same tokens/s (see probe.ts throughputKey). */
  key: string;
  tokens: number;
  flops: number;
  /** Non-embedding parameters, to borrow the pace of the nearest-size finished run. */
  params: number;
}

/** Tracks sweep position and throughput and renders progress lines. */
export class SweepProgress {
  #pos = 0;
  #tps = new Map<string, number>();
  #flopRate: { params: number; rate: number }[] = [];
  #current?: { run: ProgressRun; started: number };

  /**
   * @param runs the runs this process will train, in order
   * @param sink where lines go
   */
  constructor(private runs: ProgressRun[], private sink: Sink = stderrSink()) {}

  /** A plain message line (skips, notes). */
  note(text: string): void {
    this.sink(text, false);
  }

  /** A run starts. */
  start(id: string): void {
    const run = this.runs.find((r) => r.id === id);
    if (!run) return;
    this.#pos = this.runs.indexOf(run) + 1;
    this.#current = { run, started: performance.now() };
  }

  /** Estimated seconds of a pending run: its shape's measured tokens/s, else the nearest size's FLOP rate. */
  #estimate(r: ProgressRun): number {
    const tps = this.#tps.get(r.key);
    if (tps) return r.tokens / tps;
    let best: { params: number; rate: number } | undefined;
    for (const f of this.#flopRate) {
      if (!best || Math.abs(Math.log(f.params / r.params)) < Math.abs(Math.log(best.params / r.params))) {
        best = f;
      }
    }
    return best ? r.flops / best.rate : NaN;
  }

  /** Engine progress of the current run. */
  update(p: TrainProgress): void {
    const c = this.#current;
    if (!c) return;
    // The current run's pace counts once it is past its first steps (which include shader compilation).
    const borrow = p.tokensPerSecond > 0 && !this.#tps.has(c.run.key) && p.step >= Math.max(10, p.steps / 10);
    if (borrow) {
      this.#flopRate.push({ params: c.run.params, rate: (p.tokensPerSecond * c.run.flops) / c.run.tokens });
    }
    const rest = this.runs.slice(this.#pos).reduce((s, r) => s + this.#estimate(r), 0);
    if (borrow) this.#flopRate.pop();
    this.sink(
      `[${this.#pos}/${this.runs.length}] ${c.run.id}  step ${p.step}/${p.steps}  ${
        formatSi(p.tokensPerSecond)
      } tok/s  ` +
        `loss ${Number.isFinite(p.trainLoss) ? p.trainLoss.toFixed(3) : p.trainLoss}  ` +
        `run ETA ${formatDuration(p.etaSeconds)}  sweep ETA ${formatDuration(p.etaSeconds + rest)}`,
      true,
    );
  }

  /** The current run ended (any outcome); `summary` is printed after its id. */
  end(summary: string, tokensPerSecond?: number): void {
    const c = this.#current;
    if (!c) return;
    const seconds = (performance.now() - c.started) / 1000;
    if (tokensPerSecond && tokensPerSecond > 0) {
      this.#tps.set(c.run.key, tokensPerSecond);
      this.#flopRate.push({ params: c.run.params, rate: (tokensPerSecond * c.run.flops) / c.run.tokens });
    }
    this.sink(
      `[${this.#pos}/${this.runs.length}] ${c.run.id}  ${summary}  (${formatDuration(seconds)})`,
      false,
    );
    this.#current = undefined;
  }
}
