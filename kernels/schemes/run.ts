/**
 * GPU host wrapper of the scheme operand quantizers for tests and tools: runs the engine's prepare kernel
 * (kernels/engine/ops.ts) with a scheme operand's fused `prep()` on one [R, C] tensor.
 * @module
 */
import { Program, type Runtime } from "../../lib/gpu/runtime.ts";
import { grid1d, prepare } from "../engine/ops.ts";
import { prepWgsl } from "./prep.ts";
import { groupSize } from "../../lib/schemes/reference.ts";
import type { OperandQuant } from "../../lib/schemes/types.ts";

/** Runs the engine prepare kernel of `op` on [R, C] along `axis`; returns prepared values and multipliers. */
export async function gpuPrep(
  rt: Runtime,
  op: OperandQuant,
  x: Float32Array,
  R: number,
  C: number,
  axis: 0 | 1,
  stepSeed: number,
  salt: number,
  gemm: "dx" | "dw" = "dx",
): Promise<{ v: Float32Array; g: Float32Array }> {
  const len = axis === 1 ? C : R;
  const G = groupSize(op, len);
  const code = prepare(R, C, axis, G, prepWgsl(op, G, gemm), true, salt);
  const src = rt.storage(x.byteLength, "src"), dst = rt.storage(x.byteLength, "dst");
  const gm = rt.storage(x.byteLength, "gm"), un = rt.uniform(16, "u");
  rt.device.queue.writeBuffer(src, 0, x as Float32Array<ArrayBuffer>);
  rt.device.queue.writeBuffer(un, 0, new Uint32Array([0, 0, 0, stepSeed]));
  const pipe = rt.pipeline(`test:${JSON.stringify(op)}:${R}:${C}:${axis}:${salt}:${gemm}`, () => code);
  const d = rt.dispatch("prep", pipe, [src, dst, un, gm], grid1d((R * C) / G));
  Program.of(d).submit(rt.device);
  const v = new Float32Array(await rt.read(dst, x.byteLength));
  const g = new Float32Array(await rt.read(gm, x.byteLength));
  for (const b of [src, dst, gm, un]) b.destroy();
  return { v, g };
}
