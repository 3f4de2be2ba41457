/**
 * `--shard i/n`: a deterministic partition of a spec's runs, balanced by FLOPs.
 * @module
 */
import { InputError } from "../spec/errors.ts";
import type { TrainConfig } from "../engine/api.ts";
import { branchStep, sharingGroups } from "./sharing.ts";

/** Shard i of n, 1-based. */
export interface Shard {
  index: number;
  count: number;
}

/** Most shards a sweep may be split into. */
export const MAX_SHARDS = 10_000;

/** Parses `i/n` (1 ≤ i ≤ n ≤ {@link MAX_SHARDS}); InputError otherwise. */
export function parseShard(text: string): Shard {
  const m = /^(\d{1,9})\/(\d{1,9})$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count || count > MAX_SHARDS) {
    throw new InputError(`--shard: expected i/n with 1 ≤ i ≤ n ≤ ${MAX_SHARDS} (e.g. 1/2), got "${text}"`);
  }
  return { index, count };
}

/** Directory-safe label of a shard, e.g. `1of2`. */
export function shardLabel(s: Shard): string {
  return `${s.index}of${s.count}`;
}

/** A run as the partition sees it; with a config, runs that share a prefix (./sharing.ts) stay together. */
export interface ShardableRun {
  id: string;
  flops: number;
  config?: TrainConfig;
}

/**
 * Assigns every run to a shard: longest first (FLOPs, then id), each to the least loaded shard.
 * A prefix-sharing group (WSD runs that differ only in budget, lib/sweep/sharing.ts) is one unit whose
 * cost is its longest run plus the others' decays, so the branch checkpoints its longest run writes are
 * used on the same machine; runs that cannot share are units of one, as before.
 * It depends only on the spec's full run list (not on which runs are done, nor on --only), so every
 * machine computes the same partition and no run is trained twice.
 */
export function assignShards<T extends ShardableRun>(runs: T[], count: number): Map<string, number> {
  const load = new Array<number>(count).fill(0);
  const out = new Map<string, number>();
  const units = shardUnits(runs);
  units.sort((a, b) => b.cost - a.cost || (a.ids[0] < b.ids[0] ? -1 : a.ids[0] > b.ids[0] ? 1 : 0));
  for (const u of units) {
    let best = 0;
    for (let i = 1; i < count; i++) if (load[i] < load[best]) best = i;
    load[best] += u.cost;
    for (const id of u.ids) out.set(id, best + 1);
  }
  return out;
}

/** The partition's units: sharing groups (longest run's id first) and their FLOPs with sharing. */
function shardUnits<T extends ShardableRun>(runs: T[]): { ids: string[]; cost: number }[] {
  const plain = runs.filter((r) => !r.config?.schedule);
  const wsd = runs.filter((r) => r.config?.schedule) as (T & { config: TrainConfig })[];
  const groups = sharingGroups(wsd.map((r) => ({ ...r, trainTokens: 0 })));
  return [
    ...plain.map((r) => ({ ids: [r.id], cost: r.flops })),
    ...groups.map((g) => ({
      ids: g.map((r) => r.id),
      cost: g.reduce(
        (c, r, i) => c + (i ? r.flops * (1 - branchStep(r.config) / r.config.steps) : r.flops),
        0,
      ),
    })),
  ];
}

/** The runs of shard `s` (all runs when s is undefined), in their original order. */
export function selectShard<T extends ShardableRun>(runs: T[], s?: Shard): T[] {
  if (!s || s.count === 1) return runs;
  const owner = assignShards(runs, s.count);
  return runs.filter((r) => owner.get(r.id) === s.index);
}
