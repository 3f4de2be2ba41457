import assert from "node:assert/strict";

const dec = new TextDecoder();
const run = (args: string[]) =>
  new Deno.Command(Deno.execPath(), { args: ["run", "-A", ...args], stdout: "piped", stderr: "piped" })
    .output()
    .then((o) => ({ code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr).trim() }));

Deno.test("the DiT tools (lib/cli/args.ts toolArgs): --help exits 0, bad flags one line exit 2 before any work", async () => {
  const cases: [string[], RegExp][] = [
    [["tools/dit_figures.ts", "--ema", "-0.1"], /^dit_figures: --ema must be a number ≥ 0 \(got "-0\.1"\)$/],
    [["tools/dit_figures.ts", "--ema", "1"], /^dit_figures: --ema must be in \[0, 1\) \(got "1"\)$/],
    [["tools/dit_figures.ts", "--schemes", "bf16,nope"], /^dit_figures: unknown scheme "nope"/],
    [["tools/dit_figures.ts", "stray"], /^dit_figures: Unexpected argument 'stray'.* \(see --help\)$/],
    [["tools/dit_quality.ts"], /^dit_quality: --checkpoint DIR is required \(see --help\)$/],
    [
      ["tools/dit_quality.ts", "--checkpoint", "/nonexistent", "--per-class", "0"],
      /^dit_quality: --per-class must be an integer in \[1, 1000\] \(got "0"\)$/,
    ],
    [["tools/dit_quality.ts", "--checkpoint", "/nonexistent"], /^dit_quality: checkpoint \/nonexistent: /],
  ];
  const results = await Promise.all([
    run(["tools/dit_figures.ts", "--help"]),
    run(["tools/dit_quality.ts", "-h"]),
    ...cases.map(([a]) => run(a)),
  ]);
  const [figHelp, qHelp, ...bad] = results;
  assert.equal(figHelp.code, 0);
  assert.match(figHelp.out, /^deno run -A tools\/dit_figures\.ts \[options\]/);
  assert.equal(qHelp.code, 0);
  assert.match(qHelp.out, /--checkpoint DIR/);
  for (const [i, r] of bad.entries()) {
    assert.equal(r.code, 2, `${cases[i][0].join(" ")}: ${r.err}`);
    assert.equal(r.err.split("\n").length, 1, r.err);
    assert.match(r.err, cases[i][1]);
    assert.equal(r.out, "");
  }
});
