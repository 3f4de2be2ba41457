/**
 * Embedding lookup X[m] = E[id[m]] and its atomic-free gradient (CSR of positions per id, built on the CPU
 * by {@link packIds}).
 * @module
 */
import * as K from "../../kernels/engine/ops.ts";
import type { Program, Runtime, Slice } from "../gpu/runtime.ts";
import { kernel } from "./record.ts";

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

/** An embedding table of V rows of width d, looked up by M ids. */
export class Embedding {
  /** Layout of the id buffer this layer reads. */
  readonly ids: IdLayout;
  /** Creates the layer. */
  constructor(readonly rt: Runtime, readonly o: { name: string; M: number; d: number; V: number }) {
    this.ids = idLayout(o.M, o.V);
  }

  /** Records X = E[ids]. */
  forward(prog: Program, ids: GPUBuffer, table: Slice, x: GPUBuffer): void {
    const { M, d } = this.o;
    kernel(this.rt, prog, this.o.name, `embed:${M}:${d}`, () => K.embedFwd(M, d), [ids, table, x], M * d / 4);
  }

  /** Records dE (overwritten). */
  backward(prog: Program, ids: GPUBuffer, dx: GPUBuffer, dtable: Slice): void {
    const { M, d, V } = this.o, { offOff, posOff } = this.ids;
    kernel(
      this.rt,
      prog,
      `${this.o.name} bwd`,
      `embedbwd:${M}:${d}:${V}`,
      () => K.embedBwd(M, d, V, offOff, posOff),
      [
        ids,
        dx,
        dtable,
      ],
      V * d / 4,
    );
  }
}
