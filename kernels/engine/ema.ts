/**
 * WGSL of the weights' exponential moving average (the DiT trainer's EMA, lib/layers/ema.ts): one
 * elementwise update over the flat parameter buffer, recorded after AdamW in the training program.
 * Its TypeScript reference is `emaStepF32` in lib/layers/ema.ts; tests/engine_ema_test.ts compares them.
 * @module
 */
import { WG } from "./ops.ts";

/**
 * avg ← d·avg + (1 − d)·p over `n4` vec4 words. The uniform holds (d, 1 − d, unused, unused), both written by
 * the CPU (1 − d rounded from float64, not computed in f32 from a rounded d). Bindings: 0 avg (read-write),
 * 1 params, 2 uniform.
 */
export function emaUpdate(n4: number): string {
  if (!Number.isInteger(n4) || n4 < 1) throw new Error(`ema: ${n4} vec4 words (the parameter count / 4)`);
  return `struct U { d: f32, c: f32, pad0: f32, pad1: f32 };
@group(0) @binding(0) var<storage, read_write> A: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> P: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> u: U;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid;
  if (i >= ${n4}u) { return; }
  A[i] = u.d * A[i] + u.c * P[i];
}`;
}
