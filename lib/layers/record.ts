/**
 * Recording helpers shared by the layers: one elementwise/row kernel dispatch, one GEMM dispatch, and the
 * buffer-to-texture copy of attention operands. Layers record into a {@link Program}; nothing runs here.
 * @module
 */
import { gemmFlops, gemmGrid, gemmKey, type GemmSpec, gemmWgsl, tileFor } from "../../kernels/engine/gemm.ts";
import { grid1d, type PackedRuns } from "../../kernels/engine/ops.ts";
import type { Binding, Program, Runtime, Slice } from "../gpu/runtime.ts";

/** Records one kernel (pipeline cached under `key`) over `n` invocations. */
export function kernel(
  rt: Runtime,
  prog: Program,
  label: string,
  key: string,
  code: () => string,
  bindings: Binding[],
  n: number,
): void {
  prog.add(rt.dispatch(label, rt.pipeline(key, code), bindings, grid1d(n)));
}

/** Records one GEMM, tiled for its shape (reads textures when the first operand is one). */
export function gemm(rt: Runtime, prog: Program, label: string, s0: GemmSpec, bindings: Binding[]): void {
  const s: GemmSpec = {
    ...tileFor(s0.M, s0.N, s0.K, s0.batch ?? 1),
    tex: bindings[0] instanceof GPUTextureView,
    ...s0,
  };
  prog.add(
    rt.dispatch(label, rt.pipeline(gemmKey(s), () => gemmWgsl(s)), bindings, gemmGrid(s), gemmFlops(s)),
  );
}

/**
 * K packed runs (lib/engine/pack.ts): activations hold the runs' rows one run after another (a K·B batch),
 * parameters and gradients are K slabs of `stride` floats (run r's tensor at `r·stride` past run 0's).
 * Layers take `runs` only for K ≥ 2; a layer without it is one run, on the single-run kernels.
 */
export type Runs = PackedRuns;

/** A slice of run 0's tensor widened to cover the same tensor of every run (`runs` absent: unchanged). */
export function allRuns(s: Slice, floats: number, runs?: Runs): Slice {
  return runs ? { ...s, size: ((runs.runs - 1) * runs.stride + floats) * 4 } : s;
}
