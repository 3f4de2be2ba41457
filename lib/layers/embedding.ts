/**
 * Embedding lookup X[m] = E[id[m]] and its atomic-free gradient (CSR of positions per id, built on the CPU
 * by {@link packIds}).
 * @module
 */
import * as K from "../../kernels/engine/ops.ts";
import type { Program, Runtime, Slice } from "../gpu/runtime.ts";
import { allRuns, kernel, type Runs } from "./record.ts";

/** Word offsets (u32) inside an id buffer: ids [M], targets [M], CSR offsets [V+1], CSR positions [M]. */
export interface IdLayout {
  /** Rows (ids) in the buffer. */
  M: number;
  /** Targets start. */
  tgtOff: number;
  /** CSR offsets start (V+1 words). */
  offOff: number;
  /** CSR positions start (M words). */
  posOff: number;
  /** Total words. */
  words: number;
}

/** Id buffer layout for M ids over a table of V rows. */
export function idLayout(M: number, V: number): IdLayout {
  return { M, tgtOff: M, offOff: 2 * M, posOff: 2 * M + V + 1, words: 3 * M + V + 1 };
}

/** Word layout of a packed id buffer: ids [K·M], targets [K·M], then per run CSR offsets [V+1] and positions [M]. */
export interface RunIdLayout {
  /** Rows (ids) per run. */
  M: number;
  /** Runs. */
  runs: number;
  /** Targets start. */
  tgtOff: number;
  /** CSR of run 0 starts here. */
  csrOff: number;
  /** Words per run's CSR (V + 1 + M). */
  csrWords: number;
  /** Total words. */
  words: number;
}

/** The packed id-buffer layout of `runs` runs of M ids over V rows. */
export function runIdLayout(M: number, V: number, runs: number): RunIdLayout {
  const csrWords = V + 1 + M;
  return { M, runs, tgtOff: runs * M, csrOff: 2 * runs * M, csrWords, words: 2 * runs * M + runs * csrWords };
}

/**
 * Packs ids and targets (targets < 0 are ignored by a loss) with the CSR index of positions per id that
 * the embedding gradient uses.
 */
export function packIds(inputs: ArrayLike<number>, targets: ArrayLike<number>, V: number): Uint32Array {
  const M = inputs.length;
  const lay = idLayout(M, V);
  const out = new Uint32Array(lay.words);
  const counts = new Uint32Array(V + 1);
  for (let i = 0; i < M; i++) {
    out[i] = inputs[i];
    out[lay.tgtOff + i] = targets[i] < 0 ? 0xffffffff : targets[i];
    counts[inputs[i] + 1]++;
  }
  for (let v = 0; v < V; v++) counts[v + 1] += counts[v];
  out.set(counts, lay.offOff);
  const fill = counts.slice(0, V);
  for (let i = 0; i < M; i++) out[lay.posOff + fill[inputs[i]]++] = i;
  return out;
}

/**
 * Packs the ids and targets of K runs (one batch each, in run order) into the layout of `runIdLayout`:
 * ids and targets of every run first, then each run's CSR index (positions local to the run).
 */
export function packRunIds(batches: { inputs: ArrayLike<number>; targets: ArrayLike<number> }[], V: number) {
  const M = batches[0].inputs.length, K = batches.length;
  const lay = runIdLayout(M, V, K);
  const out = new Uint32Array(lay.words);
  batches.forEach((b, r) => {
    const one = packIds(b.inputs, b.targets, V);
    out.set(one.subarray(0, M), r * M);
    out.set(one.subarray(M, 2 * M), lay.tgtOff + r * M);
    out.set(one.subarray(2 * M), lay.csrOff + r * lay.csrWords);
  });
  return out;
}

/** An embedding table of V rows of width d, looked up by M ids (per run, with `runs`). */
export class Embedding {
  /** Layout of the id buffer this layer reads (targets at `tgtOff`; `words` in all). */
  readonly ids: IdLayout | RunIdLayout;
  /** Creates the layer. */
  constructor(
    readonly rt: Runtime,
    readonly o: { name: string; M: number; d: number; V: number; runs?: Runs },
  ) {
    this.ids = o.runs ? runIdLayout(o.M, o.V, o.runs.runs) : idLayout(o.M, o.V);
  }

  /** Records X = E[ids]. */
  forward(prog: Program, ids: GPUBuffer, table: Slice, x: GPUBuffer): void {
    const { M, d, V, runs } = this.o, k = runs?.runs ?? 1;
    const key = runs ? `embedruns:${M}:${d}:${k}:${runs.stride}` : `embed:${M}:${d}`;
    const t = allRuns(table, V * d, runs);
    kernel(this.rt, prog, this.o.name, key, () => K.embedFwd(M, d, runs), [ids, t, x], k * M * d / 4);
  }

  /** Records dE (overwritten). */
  backward(prog: Program, ids: GPUBuffer, dx: GPUBuffer, dtable: Slice): void {
    const { M, d, V, runs } = this.o, k = runs?.runs ?? 1;
    // packed runs: run 0's CSR (each run's lies one CSR further)
    const [offOff, posOff] = runs
      ? [(this.ids as RunIdLayout).csrOff, (this.ids as RunIdLayout).csrOff + V + 1]
      : [(this.ids as IdLayout).offOff, (this.ids as IdLayout).posOff];
    const key = runs ? `embedbwdruns:${M}:${d}:${V}:${k}:${runs.stride}` : `embedbwd:${M}:${d}:${V}`;
    const code = () => K.embedBwd(M, d, V, offOff, posOff, runs);
    const t = allRuns(dtable, V * d, runs);
    kernel(this.rt, prog, `${this.o.name} bwd`, key, code, [ids, dx, t], k * V * d / 4);
  }
}
