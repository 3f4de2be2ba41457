/** `deno task schemes` lists every scheme; unknown names give the closest names and exit code 2. */
import assert from "node:assert/strict";
import { FORWARD, NAMED, schemePair } from "../lib/schemes/catalog.ts";

async function run(script: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(`../cli/${script}`, import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: o.code, out: d.decode(o.stdout), err: d.decode(o.stderr) };
}

Deno.test("schemes CLI: lists every named scheme and label with a description", async () => {
  const r = await run("schemes.ts", []);
  assert.equal(r.code, 0, r.err);
  for (const n of Object.keys(NAMED)) assert.match(r.out, new RegExp(`^  ${n.replace("+", "\\+")} `, "m"));
  for (const l of Object.keys(FORWARD)) assert.ok(r.out.includes(`  ${l} `), `forward label ${l}`);
  const one = await run("schemes.ts", ["quartet"]);
  assert.match(one.out, /quartet = --fwd quest --bwd rtn-bwd/);
});

Deno.test("schemes CLI: unknown names → closest names, exit 2 (schemes and train)", async () => {
  const a = await run("schemes.ts", ["quartett"]);
  assert.equal(a.code, 2);
  assert.match(a.err, /did you mean "quartet"/);
  assert.equal(a.err.trim().split("\n").length, 1);
  const b = await run("train.ts", ["--scheme", "fp4-dge-ocx"]);
  assert.equal(b.code, 2);
  assert.match(b.err, /did you mean "fp4-dge-occ"/);
  const c = await run("train.ts", ["--fwd", "qest", "--bwd", "fp32"]);
  assert.equal(c.code, 2);
  assert.match(c.err, /did you mean "quest"/);
});

Deno.test("schemes: --scheme resolution (presets, both-halves labels, forward-only, backward-only, +lm_head)", () => {
  assert.deepEqual(schemePair("quartet"), { fwd: "quest", bwd: "rtn-bwd" });
  assert.deepEqual(schemePair("quartet-sr"), { fwd: "quest", bwd: "sr-bwd" });
  assert.deepEqual(schemePair("rtn-int4"), { fwd: "rtn-int4", bwd: "rtn-int4" });
  assert.deepEqual(schemePair("sr-absmax"), { fwd: "sr-absmax", bwd: "bf16" });
  assert.deepEqual(schemePair("sr-bwd"), { fwd: "bf16", bwd: "sr-bwd" });
  assert.deepEqual(schemePair("quartet+lm_head"), { fwd: "quest+lm_head", bwd: "rtn-bwd" });
  assert.equal(schemePair("nope"), undefined);
});
