/**
 * Packs of a sweep (lib/engine/pack.ts): the pending runs that train together in one program. Runs pack when
 * their configs are equal but for seed, peak lr and schedule (`packKey`: same shape, scheme, batch, data,
 * steps, evaluation) and their scheme packs (`packProblemOf`: fp32 and bf16 today; FP4 schemes train alone).
 *
 * With WSD prefix sharing (./sharing.ts) runs come in two waves: first every sharing group's longest run
 * (and every run that shares nothing), then the branched runs, which resume from their group's branch
 * checkpoints. Packs form within a wave only, so a branched run's checkpoint always exists before its pack
 * starts, and packs of branched runs hold runs with equal step counts (hence equal branch points).
 * @module
 */
import { packCapFor, packKey, packProblemOf } from "../engine/packable.ts";
import { type ShareableRun, sharingGroups } from "./sharing.ts";
import type { TrainConfig } from "../engine/api.ts";

/** The runs in packs of at most `cap` (1: every run alone), in training order. */
export function packPlan<T extends ShareableRun>(runs: T[], cap: number): T[][] {
  const groups = sharingGroups(runs);
  const waves = [groups.map((g) => g[0]), groups.flatMap((g) => g.slice(1))];
  const out: T[][] = [];
  // whether a run packs depends on its family, scheme, attention and init only: decide once per such key
  const problems = new Map<string, string | undefined>();
  const packs = (c: TrainConfig) => {
    const k = JSON.stringify([c.model.family, c.scheme, c.attention, c.initFrom]);
    if (!problems.has(k)) problems.set(k, packProblemOf(c));
    return problems.get(k) === undefined;
  };
  for (const wave of waves) {
    const buckets = new Map<string, T[]>();
    for (const r of wave) {
      const k = cap > 1 && packs(r.config) ? packKey(r.config) : `\u0000${r.id}`;
      const b = buckets.get(k);
      if (b) b.push(r);
      else buckets.set(k, [r]);
    }
    for (const b of buckets.values()) {
      const size = packCapFor(b[0].config, cap);
      for (let i = 0; i < b.length; i += size) out.push(b.slice(i, i + size));
    }
  }
  return out;
}

/** One line for the dry run from a {@link packPlan} of `pending` runs, or nothing when no run packs. */
export function packSummary<T>(plan: T[][], pending: number, cap: number): string | undefined {
  const packs = plan.filter((p) => p.length > 1);
  if (!packs.length) return undefined;
  const n = packs.reduce((s, p) => s + p.length, 0);
  const sizes = packs.map((p) => p.length).join(", ");
  return `packed runs: ${n} of ${pending} pending runs train in ${packs.length} pack(s) of ${sizes} ` +
    `(--pack ${cap}; --pack 1 trains every run alone)`;
}
