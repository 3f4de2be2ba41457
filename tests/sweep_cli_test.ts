/** The sweep CLI's bad-input paths: exit 2 with the problem named, before any run. */
import assert from "node:assert/strict";

const repo = new URL("..", import.meta.url).pathname;

async function sweep(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/sweep.ts", ...args],
    cwd: repo,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    err: new TextDecoder().decode(out.stderr),
    out: new TextDecoder().decode(out.stdout),
  };
}

const good = {
  name: "cli-test",
  data: "sotu",
  models: [{ layers: 1, dModel: 32 }],
  schemes: ["fp32"],
  tokens: { absolute: [640] },
  optimizer: { lr: { rule: "constant", value: 1e-3 } },
  batch: 2,
  context: 32,
  evalTokens: 64,
};

Deno.test("sweep CLI: invalid spec, unknown scheme, bad flags and unwritable results exit 2", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify({ ...good, batch: 0, models: [{ layers: 1 }] }));
  let r = await sweep(`${dir}/bad.json`);
  assert.equal(r.code, 2);
  assert.match(r.err, /→ at batch/);
  assert.match(r.err, /→ at models\[0\]/);

  await Deno.writeTextFile(`${dir}/scheme.json`, JSON.stringify({ ...good, schemes: ["bf61"] }));
  r = await sweep(`${dir}/scheme.json`, "--dry-run", "--no-probe");
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown scheme "bf61"; did you mean "bf16"/);

  await Deno.writeTextFile(`${dir}/good.json`, JSON.stringify(good));
  r = await sweep(`${dir}/good.json`, "--shard", "3/2");
  assert.equal(r.code, 2);
  r = await sweep(`${dir}/good.json`, "--bogus");
  assert.equal(r.code, 2);
  await Deno.writeTextFile(`${dir}/file`, "");
  r = await sweep(`${dir}/good.json`, "--results", `${dir}/file`);
  assert.equal(r.code, 2);
  assert.match(r.err, /cannot be written/);

  r = await sweep(`${dir}/good.json`, "--dry-run", "--no-probe", "--results", `${dir}/res`);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /total: 1 runs \(1 pending\)/);

  // More tokens than the data source holds: the dry run says the training data would repeat.
  await Deno.writeTextFile(
    `${dir}/long.json`,
    JSON.stringify({ ...good, tokens: { absolute: [30_000_000] } }),
  );
  r = await sweep(`${dir}/long.json`, "--dry-run", "--no-probe", "--results", `${dir}/res`);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /would repeat the training data 2\.\d× /);
  await Deno.remove(dir, { recursive: true });
});
