/**
 * Prefix sharing of token budgets. Runs with a WSD schedule (lib/engine/schedule.ts) that differ only in
 * their step count (same shape, scheme, seed, peak lr, data, batch, schedule) follow one trajectory until
 * a run's decay begins. The sweep therefore trains the longest run of such a group first; when it reaches
 * each shorter run's branch point (the step where that run's decay begins) it writes a checkpoint of the
 * shorter run's config into that run's own checkpoint directory, and the shorter run later resumes from
 * there like from any checkpoint: only its decay is trained. Cosine runs (the default) and runs with a
 * scheme switch (whose switch step depends on the length) are groups of one.
 * @module
 */
import { decayStart } from "../engine/schedule.ts";
import { parseSwitch } from "../schemes/schedule.ts";
import type { TrainConfig } from "../engine/api.ts";
import { canonicalJson } from "../spec/hash.ts";

/** What sharing needs of a planned run. */
export interface ShareableRun {
  id: string;
  config: TrainConfig;
  trainTokens: number;
}

/** The group key of a run (equal keys: the runs differ only in steps), or undefined when it cannot share. */
export function sharingKey(config: TrainConfig): string | undefined {
  if (!config.schedule || parseSwitch(config.scheme) || config.model.family === "dit") return undefined;
  return canonicalJson({ ...config, steps: 0 });
}

/** The step where a WSD run's decay begins (its branch point); its step count for other runs. */
export function branchStep(config: TrainConfig): number {
  return config.schedule ? decayStart(config.schedule, config.steps) : config.steps;
}

/**
 * The runs split into sharing groups, each longest first (ties by id), groups in the order of their first
 * run in `runs`; every run is in exactly one group, a run that cannot share is a group of one.
 */
export function sharingGroups<T extends ShareableRun>(runs: T[]): T[][] {
  const groups = new Map<string, T[]>();
  runs.forEach((r) => {
    const k = sharingKey(r.config) ?? `\u0000${r.id}`;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  });
  const byLength = (a: T, b: T) =>
    b.config.steps - a.config.steps || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return [...groups.values()].map((g) => g.sort(byLength));
}

/** `runs` reordered so that each sharing group is contiguous, longest first, at its first run's place. */
export function sharingOrder<T extends ShareableRun>(runs: T[]): T[] {
  return sharingGroups(runs).flat();
}

/**
 * Tokens trained with and without sharing: alone, every run from step 0; shared, each group's longest
 * run in full and every other run from its branch point.
 */
export function sharedTokens<T extends ShareableRun>(runs: T[]): { alone: number; shared: number } {
  let alone = 0, shared = 0;
  for (const g of sharingGroups(runs)) {
    g.forEach((r, i) => {
      alone += r.trainTokens;
      const perStep = r.trainTokens / r.config.steps;
      shared += i === 0 ? r.trainTokens : (r.config.steps - branchStep(r.config)) * perStep;
    });
  }
  return { alone, shared };
}

/** Tokens each run trains itself under sharing: the longest run of a group all, the others their decay. */
export function tokensToTrain<T extends ShareableRun>(runs: T[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const g of sharingGroups(runs)) {
    g.forEach((r, i) => {
      out.set(
        r.id,
        i ? (r.config.steps - branchStep(r.config)) * (r.trainTokens / r.config.steps) : r.trainTokens,
      );
    });
  }
  return out;
}
