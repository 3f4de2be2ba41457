/**
 * Attention part of `deno task bench train --attention NAME`: builds the same model and batch with f32
 * attention and with the recipe, in the same run, and reports per variant the training step time, the
 * attention products' GFLOP/s (QKᵀ, PV and the backward's dP, dV, dQ, dK), the other GEMMs' GFLOP/s and the
 * time of the recipe's non-GEMM kernels (preparation, fake quantization, softmax, dS), from one step profiled
 * with timestamp queries (one dispatch per pass), and the step-time ratio recipe / f32.
 * @module
 */
import { dispatchTimesMs } from "./profile.ts";
import { GpuModel } from "../lib/models/llama/model.ts";
import type { Dispatch, Runtime } from "../lib/gpu/runtime.ts";
import type { ModelConfig } from "../lib/engine/api.ts";
import type { LinearScheme } from "../lib/layers/linear.ts";
import type { AttentionRecipe } from "../lib/attention/recipes.ts";
import { warmSingleRun } from "./single_run.ts";

/** Figures of one attention variant. */
export interface AttentionBench {
  /** Recipe name. */
  attention: string;
  /** Wall seconds per training step (steps submitted back to back). */
  stepSeconds: number;
  /** Attention products (profiled step): GFLOP/s and milliseconds. */
  attentionGemm: { gflops: number; ms: number };
  /** The other GEMMs (linear layers). */
  otherGemm: { gflops: number; ms: number };
  /** Milliseconds of the non-GEMM attention kernels (softmax; with a recipe also prep, quantization, dS) in the profiled step. */
  attentionKernelsMs: number;
}

const ATT_GEMM = / (qk|pv|dP|dV|dQ|dK)$/;
const ATT_KERNEL = / (att prep|att ΔS|quant \w+|softmax[\w\s-]*|att dS)$/;

/** Times `steps` training steps and profiles one, with attention recipe `att`. */
export async function benchAttention(
  rt: Runtime,
  cfg: ModelConfig,
  batch: number,
  steps: number,
  recipe: LinearScheme,
  att: AttentionRecipe,
): Promise<AttentionBench> {
  const model = GpuModel.create(rt, cfg, { batch, recipe, attention: att });
  try {
    const step = await warmSingleRun(rt, model, cfg, batch);
    const dev = rt.device;
    const t0 = performance.now();
    for (let s = 2; s < 2 + steps; s++) step(s);
    await dev.queue.onSubmittedWorkDone();
    const stepSeconds = (performance.now() - t0) / 1000 / steps;
    const out: AttentionBench = {
      attention: att.name,
      stepSeconds,
      attentionGemm: { gflops: NaN, ms: 0 },
      otherGemm: { gflops: NaN, ms: 0 },
      attentionKernelsMs: 0,
    };
    const items = model.trainProgram.items.filter((it): it is Dispatch => "pipeline" in it);
    const times = await dispatchTimesMs(dev, items);
    if (!times) return out;
    let af = 0, of = 0;
    items.forEach((it, i) => {
      const ms = times[i];
      if (it.flops > 0 && ATT_GEMM.test(it.label)) (out.attentionGemm.ms += ms), (af += it.flops);
      else if (it.flops > 0) (out.otherGemm.ms += ms), (of += it.flops);
      else if (ATT_KERNEL.test(it.label)) out.attentionKernelsMs += ms;
    });
    out.attentionGemm.gflops = af / out.attentionGemm.ms / 1e6;
    out.otherGemm.gflops = of / out.otherGemm.ms / 1e6;
    return out;
  } finally {
    await rt.device.queue.onSubmittedWorkDone();
    model.destroy();
  }
}

/** One printable line per variant plus the step-time ratio against the first (f32) variant. */
export function attentionLines(rows: AttentionBench[]): string[] {
  const base = rows[0].stepSeconds;
  return [
    "attention  ms/step  ratio  attention GEMMs GFLOP/s (ms)  other GEMMs GFLOP/s (ms)  softmax+quant ms",
    ...rows.map((r) =>
      `${r.attention.padEnd(10)} ${(r.stepSeconds * 1000).toFixed(0).padStart(7)}  ${
        (r.stepSeconds / base).toFixed(2).padStart(5)
      }  ` +
      `${r.attentionGemm.gflops.toFixed(1).padStart(8)} (${r.attentionGemm.ms.toFixed(0)})`.padEnd(30) +
      `${r.otherGemm.gflops.toFixed(1).padStart(8)} (${r.otherGemm.ms.toFixed(0)})`.padEnd(26) +
      `${r.attentionKernelsMs.toFixed(0).padStart(6)}`
    ),
  ];
}
