/**
 * `deno task quantize`: output format, codes and scales, GPU = CPU, Hadamard and stochastic options,
 * and one-line errors with exit code 2 (checked on a real subprocess).
 */
import assert from "node:assert/strict";
import { runQuantize, UsageError } from "../cli/quantize.ts";
import { specFor, withClip } from "../lib/formats/presets.ts";
import { quantizeTensor } from "../lib/formats/scaling.ts";
import { shortestF32 } from "../lib/formats/f32.ts";
import { gauss } from "../lib/formats/testdata.ts";

const cli = new URL("../cli/quantize.ts", import.meta.url).pathname;

async function spawn(
  args: string[],
  input: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(input));
  await w.close();
  const o = await p.output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

Deno.test("element format at unit scale: values one per line, specials", async () => {
  for (const device of ["cpu", "gpu"]) {
    const out = await runQuantize(
      ["--format", "e2m1", "--device", device],
      "0.3 0.25\n7 -inf nan -0.1 1e-40",
    );
    assert.equal(out, "0.5\n0\n6\n-6\nNaN\n-0\n0\n");
  }
  assert.equal(
    await runQuantize(["--format", "fp16", "--device", "cpu"], "0.1 70000 -1e9"),
    "0.099975586\nInfinity\n-Infinity\n",
  );
  assert.equal(
    await runQuantize(["--format", "int4", "--device", "cpu"], "2.5 3.5 -9 +inf"),
    "2\n4\n-7\n7\n",
  );
});

Deno.test("--codes prints element codes, block scales and the NVFP4 tensor scale", async () => {
  const blk = ["7", "1", "0.3", "-2.2", ...Array(28).fill("0")].join(" ");
  const out = (await runQuantize(["--format", "mxfp4", "--codes"], blk)).trim().split("\n");
  assert.equal(out.length, 33);
  assert.deepEqual(out.slice(0, 4), ["6 0x7", "1 0x2", "0.5 0x1", "-2 0xc"]);
  assert.equal(out[32], "scale 0 1 0x7f");
  const nv =
    (await runQuantize(["--format", "nvfp4", "--codes", "--device", "cpu"], Array(16).fill("6").join(" ")))
      .trim().split("\n");
  assert.equal(nv.length, 18);
  assert.match(nv[16], /^scale 0 \S+ 0x7e$/); // E4M3 448 = S.1111.110
  assert.equal(nv[17], `tensor_scale ${shortestF32(6 / 2688)}`);
});

Deno.test("GPU = CPU with --hadamard, --clip quest and stochastic rounding; output equals quantizeTensor", async () => {
  const x = Array.from({ length: 256 }, (_, i) => Math.fround(gauss(8, i)));
  const text = x.join(" ");
  const args = [
    "--format",
    "mxfp4",
    "--hadamard",
    "64",
    "--clip",
    "quest",
    "--rounding",
    "stochastic",
    "--seed",
    "42",
  ];
  const cpu = await runQuantize([...args, "--device", "cpu"], text);
  const gpu = await runQuantize([...args, "--device", "gpu"], text);
  assert.equal(gpu, cpu);
  const spec = {
    ...withClip(specFor("mxfp4"), "quest"),
    hadamard: { size: 64 },
    rounding: "stochastic" as const,
    seed: 42,
  };
  const ref = quantizeTensor(Float32Array.from(x), spec);
  assert.equal(cpu, Array.from(ref.values, shortestF32).join("\n") + "\n");
  // shortest round-trip decimals parse back to the same f32
  cpu.trim().split("\n").forEach((s, i) => assert.equal(Math.fround(Number(s)), ref.values[i]));
  const again = await runQuantize([...args, "--device", "cpu"], text);
  assert.equal(again, cpu);
  const other = await runQuantize([...args.slice(0, -1), "43", "--device", "cpu"], text);
  assert.notEqual(other, cpu);
});

Deno.test("bad input throws a one-line UsageError naming the problem", async () => {
  const bad: [string[], string, RegExp][] = [
    [["--format", "e2m1"], "1 2 abc", /token 3 "abc" is not a number/],
    [["--format", "e9m9"], "1", /unknown format "e9m9"/],
    [["--format", "mxfp4"], "1 2 3", /input length 3 is not a multiple of the block size 32/],
    [["--format", "e2m1", "--hadamard", "16"], "1 2 3", /not a multiple of the hadamard size 16/],
    [["--format", "e2m1", "--hadamard", "24"], "1", /--hadamard "24" must be one of/],
    [["--format", "e2m1", "--clip", "quest"], "1", /needs an E8M0 block-scaled preset/],
    [["--format", "e2m1", "--rounding", "up"], "1", /unknown --rounding "up"/],
    [["--format", "e2m1", "--bogus"], "1", /bogus/],
    [[], "1", /--format is required/],
  ];
  for (const [args, input, re] of bad) {
    await assert.rejects(() => runQuantize([...args, "--device", "cpu"], input), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, re);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
});

Deno.test("subprocess: stdin → stdout, exit 0; bad input → one stderr line and exit 2", async () => {
  const ok = await spawn(["--format", "e4m3"], "1 500 0.001");
  assert.equal(ok.code, 0);
  assert.equal(ok.stdout, "1\n448\n0.001953125\n"); // 0.001 is 0.512 of the 2^−9 subnormal step
  for (
    const [args, input] of [[["--format", "e2m1"], "1 x"], [["--format", "zz"], "1"], [
      ["--format", "nvfp4"],
      "1 2",
    ]]
  ) {
    const r = await spawn(args as string[], input as string);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("quantize:"));
    assert.equal(lines.length, 1, r.stderr);
  }
});
