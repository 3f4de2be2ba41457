/** Inline scheme definitions: validated with paths, registered under a content hash, trainable. */
import assert from "node:assert/strict";
import { parseExperiment } from "../lib/spec/validate.ts";
import { resolveSchemes } from "../lib/spec/schemes.ts";
import { expandExperiment } from "../lib/sweep/expand.ts";
import { runSweep } from "../lib/sweep/runner.ts";

const mx = {
  element: "e2m1",
  scale: { granularity: "block", block: 32, type: "e8m0", rule: "ocp" },
  rounding: "nearest",
} as const;

const spec = (fwd: unknown) => ({
  name: "inline-test",
  data: "sotu",
  models: [{ layers: 1, dModel: 32, heads: 2 }],
  schemes: ["bf16", { name: "my-mx", fwd, bwd: "bf16" }],
  tokens: { absolute: [16 * 2 * 32] },
  optimizer: { lr: { rule: "constant", value: 3e-3 } },
  batch: 2,
  context: 32,
  evalTokens: 128,
});

Deno.test("an inline forward definition gets a content-hashed label, element bits and its own run ids", async () => {
  const [, s] = resolveSchemes(parseExperiment(spec({ x: mx, w: mx })).schemes);
  assert.match(s.fwd, /^my-mx\.[0-9a-f]{8}$/);
  assert.deepEqual([s.name, s.bwd, s.fwdBits, s.bwdBits], ["my-mx", "bf16", 4, 16]);
  const a = (await expandExperiment(parseExperiment(spec({ x: mx, w: mx })))).runs.map((r) => r.id);
  const b = (await expandExperiment(parseExperiment(spec({ x: { ...mx, rounding: "stochastic" }, w: mx }))))
    .runs.map((r) => r.id);
  assert.equal(a[0], b[0]); // the bf16 run is the same run
  assert.notEqual(a[1], b[1]); // a changed definition is a new run
});

Deno.test("inline definitions are checked with paths", () => {
  const bad = parseExperiment(
    spec({ x: { ...mx, element: "e9m9" }, w: { ...mx, scale: { ...mx.scale, type: "f32" } } }),
  );
  assert.throws(() => resolveSchemes(bad.schemes), (e: Error) => {
    assert.match(e.message, /unknown element format "e9m9"\n {2}→ at schemes\[1\]\.fwd\.x/);
    assert.match(e.message, /scale.rule "ocp" needs scale.type "e8m0"\n {2}→ at schemes\[1\]\.fwd\.w/);
    return true;
  });
  assert.throws(
    () => parseExperiment({ ...spec({ x: { ...mx, rounding: "up" } }) }),
    /→ at schemes\[1\]\.fwd\.x\.rounding/,
  );
  assert.throws(
    () => parseExperiment({ ...spec({ x: mx }), schemes: [{ fwd: { x: mx }, bwd: "bf16" }] }),
    /inline definition needs a name → at schemes\[0\]\.name$/,
  );
});

Deno.test("a run with an inline scheme trains", async () => {
  const root = await Deno.makeTempDir();
  const s = await runSweep({
    // Only X quantized: fewer kernels to compile on the software adapter.
    spec: parseExperiment({ ...spec({ x: mx }), include: [{ scheme: "my-mx" }] }),
    resultsRoot: root,
    sink: () => {},
  });
  assert.equal(s.finished, 1);
  await Deno.remove(root, { recursive: true });
});
