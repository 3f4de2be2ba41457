/**
 * Prefix sharing in the sweep (lib/sweep/sharing.ts): WSD runs that differ only in budget branch from
 * their group's longest run, their results are bit-identical to the same runs trained alone, an
 * interrupted sweep resumes to the same results, shards keep groups whole, the dry run counts tokens.
 */
import assert from "node:assert/strict";
import { parseExperiment } from "../lib/spec/validate.ts";
import { expandExperiment } from "../lib/sweep/expand.ts";
import { branchStep, sharedTokens, sharingGroups } from "../lib/sweep/sharing.ts";
import { assignShards } from "../lib/sweep/shard.ts";
import { dryRunReport } from "../lib/sweep/dryrun.ts";
import { throughputKey } from "../lib/sweep/probe.ts";
import { formatDuration } from "../lib/sweep/format.ts";
import {
  assertResumed,
  assertSameAsAlone,
  PER_STEP as perStep,
  sweepAll,
  sweepUntil,
  withSweep,
  wsdSpec,
} from "./fixtures/wsd_sweep.ts";

// 12, 20 and 30 steps: branch points 9, 15 and (the trunk) 22
const spec = wsdSpec("wsd-test", ["fp32"], [12, 20, 30], [0]);

Deno.test("sharing: groups, branch points, token counts, shards and the dry run", async () => {
  const { runs } = await expandExperiment(parseExperiment(spec));
  const wide = await expandExperiment(parseExperiment({ ...spec, seeds: [0, 1], schemes: ["fp32", "bf16"] }));
  const groups = sharingGroups(wide.runs);
  assert.equal(groups.length, 4);
  assert.ok(groups.every((g) => g.length === 3 && g[0].config.steps === 30));
  assert.deepEqual(sharingGroups(runs)[0].map((r) => branchStep(r.config)), [22, 15, 9]);
  const t = sharedTokens(runs);
  assert.equal(t.alone, 62 * perStep);
  assert.equal(t.shared, (30 + 5 + 3) * perStep);
  for (const n of [2, 3, 5]) {
    const owner = assignShards(wide.runs, n);
    for (const g of groups) assert.equal(new Set(g.map((r) => owner.get(r.id))).size, 1);
  }
  // Without a schedule nothing is shared, and the runs keep the ids they had before schedules existed.
  const { schedule: _, ...cosineOpt } = spec.optimizer;
  const cosine = await expandExperiment(parseExperiment({ ...spec, optimizer: cosineOpt }));
  assert.ok(cosine.runs.every((r) => r.config.schedule === undefined && !("schedule" in r.config)));
  assert.equal(sharedTokens(cosine.runs).shared, sharedTokens(cosine.runs).alone);
  const report = (e: typeof cosine) =>
    dryRunReport({ expansion: e, owned: e.runs, status: new Map(), throughput: new Map(), data: "sotu" });
  assert.match(
    report({ runs, duplicates: [] }),
    /prefix sharing \(WSD\): 2\.43k tokens trained instead of 3\.97k/,
  );
  assert.doesNotMatch(report(cosine), /prefix sharing/);
  // The estimated time counts the shared tokens once: 38 steps of 64 tokens at 64 tokens/s.
  const throughput = new Map([[throughputKey(runs[0].config), perStep]]);
  const timed = dryRunReport({
    expansion: { runs, duplicates: [] },
    owned: runs,
    status: new Map(),
    throughput,
    data: "sotu",
  });
  assert.match(
    timed,
    new RegExp(`estimated time of the pending runs ${formatDuration(38).replace(".", "\\.")}`),
  );
});

Deno.test("sharing: an interrupted sweep branches, resumes, and every run equals the run trained alone", async () => {
  await withSweep(spec, "wsd-sweep-", async ({ root, parsed, dir, runs }) => {
    const [trunk, mid, short] = sharingGroups(runs)[0];
    // Stop the first sweep once the trunk has written the shortest run's branch checkpoint.
    await sweepUntil(parsed, root, `${dir.ckptDir(short.id)}/trainer_state.json`);
    assert.equal(await dir.readRecord(trunk.id), undefined);
    const { s, notes } = await sweepAll(parsed, root);
    assert.equal(s.finished, 3);
    assertResumed(notes, mid.id, 15);
    assertResumed(notes, short.id, 9);
    await assertSameAsAlone(dir, [trunk, mid, short]);
  });
});
