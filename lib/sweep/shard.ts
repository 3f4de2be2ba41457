/**
 * `--shard i/n`: a deterministic partition of a spec's runs, balanced by FLOPs.
 * @module
 */
import { InputError } from "../spec/errors.ts";

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

/**
 * Assigns every run to a shard: longest first (FLOPs, then id), each to the least loaded shard.
 * It depends only on the spec's full run list (not on which runs are done, nor on --only), so every
 * machine computes the same partition and no run is trained twice.
 */
export function assignShards<T extends { id: string; flops: number }>(
  runs: T[],
  count: number,
): Map<string, number> {
  const load = new Array<number>(count).fill(0);
  const out = new Map<string, number>();
  const sorted = [...runs].sort((a, b) => b.flops - a.flops || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const r of sorted) {
    let best = 0;
    for (let i = 1; i < count; i++) if (load[i] < load[best]) best = i;
    load[best] += r.flops;
    out.set(r.id, best + 1);
  }
  return out;
}

/** The runs of shard `s` (all runs when s is undefined), in their original order. */
export function selectShard<T extends { id: string; flops: number }>(runs: T[], s?: Shard): T[] {
  if (!s || s.count === 1) return runs;
  const owner = assignShards(runs, s.count);
  return runs.filter((r) => owner.get(r.id) === s.index);
}
