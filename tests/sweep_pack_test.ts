/**
 * Packed runs in the sweep (lib/sweep/packing.ts): runs of one shape and scheme that differ in seed pack
 * (never across schemes; not with quantized attention), WSD trunks pack before their branched runs, the dry run lists the packs, and an
 * interrupted packed sweep resumes to results bit-identical to every run trained alone.
 */
import assert from "node:assert/strict";
import { parseExperiment } from "../lib/spec/validate.ts";
import { expandExperiment } from "../lib/sweep/expand.ts";
import { packPlan } from "../lib/sweep/packing.ts";
import { dryRunReport } from "../lib/sweep/dryrun.ts";
import { branchStep } from "../lib/sweep/sharing.ts";
import {
  assertResumed,
  assertSameAsAlone,
  sweepAll,
  sweepUntil,
  withSweep,
  wsdSpec,
} from "./fixtures/wsd_sweep.ts";

// 12 and 20 steps; the 12-step runs branch from the 20-step ones at step 9
const spec = wsdSpec("pack-test", ["bf16"], [12, 20], [0, 1]);

Deno.test("pack: plans (seeds pack, schemes never mix, trunks before branches, --pack caps) and the dry run", async () => {
  const { runs } = await expandExperiment(parseExperiment(spec));
  const plan = packPlan(runs, 8);
  assert.deepEqual(plan.map((p) => p.map((r) => [r.seed, r.config.steps])), [[[0, 20], [1, 20]], [[0, 12], [
    1,
    12,
  ]]]);
  assert.deepEqual(packPlan(runs, 1).map((p) => p.length), [1, 1, 1, 1]);
  const two = await expandExperiment(
    parseExperiment({ ...spec, schemes: ["bf16", "quartet"], seeds: [0, 1, 2] }),
  );
  const capped = packPlan(two.runs, 2);
  for (const p of capped) assert.equal(new Set(p.map((r) => r.scheme)).size, 1);
  assert.deepEqual(capped.map((p) => p.length), [2, 1, 2, 1, 2, 1, 2, 1]);
  // attention recipes other than f32 train alone
  const sage = await expandExperiment(parseExperiment({ ...spec, attention: ["sagebwd"] }));
  assert.deepEqual(packPlan(sage.runs, 8).map((p) => p.length), [1, 1, 1, 1]);
  const report = dryRunReport({
    expansion: two,
    owned: two.runs,
    status: new Map(),
    throughput: new Map(),
    data: "sotu",
    pack: 3,
  });
  assert.match(report, /packed runs: 12 of 12 pending runs train in 4 pack\(s\) of 3, 3, 3, 3 \(--pack 3/);
  assert.match(report, /pack of 3: bf16-/);
  assert.match(report, /pack of 3: quest\+rtn-bwd-/);
});

Deno.test("pack: an interrupted packed sweep resumes, and every run equals the run trained alone", async () => {
  await withSweep(spec, "pack-sweep-", async ({ root, parsed, dir, runs }) => {
    const short = runs.filter((r) => r.config.steps === 12);
    assert.equal(branchStep(short[0].config), 9);
    // Stop the first sweep once the packed trunks have written a branch checkpoint.
    await sweepUntil(parsed, root, `${dir.ckptDir(short[1].id)}/trainer_state.json`);
    const { s, notes } = await sweepAll(parsed, root);
    assert.equal(s.finished, 4);
    assert.ok(notes.filter((l) => l.startsWith("packed: ")).length === 2, notes.join("\n"));
    for (const r of short) assertResumed(notes, r.id, 9);
    await assertSameAsAlone(dir, runs);
  });
});
