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
      Deno.stderr.writeSync(enc.encode(`\r\x1b[K${line}${transient ? "" : "\n"}`));
    } else if (!transient || performance.now() - lastPrint > 5000) {
      lastPrint = performance.now();
      Deno.stderr.writeSync(enc.encode(`${line}\n`));
    }
  };
}

/** Tracks sweep position and throughput and renders progress lines. */
export class SweepProgress {
  #done = 0;
  #doneFlops = 0;
  #doneSeconds = 0;
  #current?: { id: string; flops: number; pos: number; started: number };

  /**
   * @param total runs this process will train
   * @param remainingFlops 6·N·D of all of them, for the sweep ETA
   * @param sink where lines go
   */
  constructor(readonly total: number, private remainingFlops: number, private sink: Sink = stderrSink()) {}

  /** A plain message line (skips, notes). */
  note(text: string): void {
    this.sink(text, false);
  }

  /** A run starts. */
  start(id: string, flops: number): void {
    this.#current = { id, flops, pos: this.#done + 1, started: performance.now() };
  }

  /** Engine progress of the current run. */
  update(p: TrainProgress): void {
    const c = this.#current;
    if (!c) return;
    const frac = p.steps > 0 ? p.step / p.steps : 0;
    const elapsed = (performance.now() - c.started) / 1000;
    // FLOP rate: finished runs of this sweep if any, else the current run's own pace.
    const rate = this.#doneSeconds > 0
      ? this.#doneFlops / this.#doneSeconds
      : frac > 0
      ? (c.flops * frac) / elapsed
      : NaN;
    const sweepEta = p.etaSeconds + (this.remainingFlops - c.flops) / rate;
    this.sink(
      `[${c.pos}/${this.total}] ${c.id}  step ${p.step}/${p.steps}  ${formatSi(p.tokensPerSecond)} tok/s  ` +
        `loss ${Number.isFinite(p.trainLoss) ? p.trainLoss.toFixed(3) : p.trainLoss}  ` +
        `run ETA ${formatDuration(p.etaSeconds)}  sweep ETA ${formatDuration(sweepEta)}`,
      true,
    );
  }

  /** The current run ended (any outcome); `summary` is printed after its id. */
  end(summary: string): void {
    const c = this.#current;
    if (!c) return;
    const seconds = (performance.now() - c.started) / 1000;
    this.#done++;
    this.#doneFlops += c.flops;
    this.#doneSeconds += seconds;
    this.remainingFlops -= c.flops;
    this.sink(`[${c.pos}/${this.total}] ${c.id}  ${summary}  (${formatDuration(seconds)})`, false);
    this.#current = undefined;
  }
}
