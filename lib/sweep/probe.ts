/**
 * The dry run's throughput probe: trains each distinct (shape, scheme, batch) of the pending runs for
 * a few steps and measures tokens/s from the difference of a 1-step and a (1+k)-step run (after a
 * warm-up run that compiles the shaders), so start-up, data loading and evaluation cancel out.
 * @module
 */
import type { TrainConfig } from "../engine/api.ts";
import { train } from "../engine/train.ts";
import type { PlannedRun } from "./expand.ts";
import { modelDims } from "../models/dims.ts";

/** Key of the configs that share a throughput. */
export function throughputKey(c: TrainConfig): string {
  const m = modelDims(c.model);
  return `${
    m.family === "dit" ? "dit " : ""
  }${c.scheme.fwd}/${c.scheme.bwd} L${m.layers} d${m.dModel} h${m.heads} f${m.ffn} c${m.context} b${c.batch}`;
}

/** Measured tokens/s per throughput key. */
export async function probeThroughput(
  runs: PlannedRun[],
  steps = 4,
  onProbe?: (key: string, tokensPerSecond: number) => void,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const run of runs) {
    const key = throughputKey(run.config);
    if (out.has(key)) continue;
    const cfg = (n: number): TrainConfig => ({
      ...run.config,
      steps: n,
      evalEvery: 0,
      evalTokens: Math.min(run.config.evalTokens, run.config.batch * modelDims(run.config.model).context),
    });
    const timed = async (n: number) => {
      const t = performance.now();
      const r = await train(cfg(n));
      return { seconds: (performance.now() - t) / 1000, reported: r.tokensPerSecond };
    };
    await timed(1); // compiles this shape's pipelines, so both timed runs below start warm
    const one = await timed(1);
    const more = await timed(1 + steps);
    const dt = more.seconds - one.seconds;
    const tps = dt > 0
      ? (steps * run.config.batch * modelDims(run.config.model).context) / dt
      : more.reported;
    out.set(key, tps);
    onProbe?.(key, tps);
  }
  return out;
}
