/** A run whose loss blows up is recorded as diverged (last finite loss kept) and the sweep goes on. */
import assert from "node:assert/strict";
import { parseExperiment } from "../lib/spec/validate.ts";
import { runSweep } from "../lib/sweep/runner.ts";
import { ResultsDir } from "../lib/results/store.ts";
import { InputError } from "../lib/spec/errors.ts";

Deno.test("a diverging run is recorded as diverged and the sweep continues", async () => {
  const root = await Deno.makeTempDir();
  const spec = parseExperiment({
    name: "diverge-test",
    data: "sotu",
    // lr = 1e-3 · (1e6 / N)²: about 5.6 for the 13k model (diverges) and 1.4 for the 27k one (the
    // sweep must go on to it whatever happens there).
    models: [{ layers: 1, dModel: 32, heads: 2 }, { layers: 2, dModel: 32, heads: 2 }],
    schemes: ["fp32"],
    tokens: { absolute: [30 * 2 * 32] },
    optimizer: { lr: { rule: "inverse-params", base: 1e-3, baseParams: 1e6, power: 2 } },
    batch: 2,
    context: 32,
    evalTokens: 128,
  });
  const lines: string[] = [];
  const s = await runSweep({ spec, resultsRoot: root, sink: (l) => lines.push(l) });
  assert.equal(s.planned, 2);
  assert.equal(s.failed, 0, lines.join("\n"));
  assert.ok(s.diverged >= 1, lines.join("\n"));
  assert.equal(s.diverged + s.finished, 2);
  const records = await ResultsDir.of(root, spec.name).readAllRecords();
  assert.equal(records.length, 2);
  const bad = records.find((r) => (r.config.model as { dModel?: number }).dModel === 32)!;
  assert.equal(bad.row.status, "diverged");
  const last = bad.row.final_train_loss;
  assert.ok(last === null || Number.isFinite(last), `last finite loss, got ${last}`);
  // A diverged run counts as done: the next sweep skips it.
  const again = await runSweep({ spec, resultsRoot: root, sink: () => {} });
  assert.equal(again.skipped, 2);
  // --force retrains exactly that run; an unknown id is bad input with the closest ids suggested.
  const forced = await runSweep({ spec, resultsRoot: root, sink: () => {}, force: [String(bad.row.run_id)] });
  assert.equal(forced.skipped, 1);
  assert.equal(forced.diverged + forced.finished, 1);
  await assert.rejects(
    runSweep({ spec, resultsRoot: root, sink: () => {}, force: [String(bad.row.run_id).slice(0, -1)] }),
    (e: Error) => e instanceof InputError && /did you mean/.test(e.message),
  );
  await Deno.remove(root, { recursive: true });
});
