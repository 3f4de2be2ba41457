/** PNG grid writer and `deno task sample` (driven by the float64 reference DiT). */
import assert from "node:assert/strict";
import { Rng } from "../lib/engine/rng.ts";
import { crc32, encodeGrayPng, imageGrid } from "../lib/images/png.ts";
import { ditLayout, initDitParams, resolveDitConfig } from "../lib/models/dit/config.ts";
import { saveDitModel } from "../lib/models/dit/checkpoint.ts";

/** Decodes an 8-bit greyscale, filter-0 PNG, checking signature and every chunk's CRC. */
async function decodeGray(png: Uint8Array): Promise<{ width: number; height: number; pixels: Uint8Array }> {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8, width = 0, height = 0, ended = false;
  const idat: Uint8Array[] = [];
  while (pos < png.length) {
    const len = dv.getUint32(pos), type = new TextDecoder().decode(png.subarray(pos + 4, pos + 8));
    assert.equal(dv.getUint32(pos + 8 + len), crc32(png.subarray(pos + 4, pos + 8 + len)), `${type} CRC`);
    if (type === "IHDR") {
      width = dv.getUint32(pos + 8), height = dv.getUint32(pos + 12);
      assert.deepEqual([...png.subarray(pos + 16, pos + 21)], [8, 0, 0, 0, 0]);
    }
    if (type === "IDAT") idat.push(png.subarray(pos + 8, pos + 8 + len));
    if (type === "IEND") ended = true;
    pos += 12 + len;
  }
  assert.ok(ended);
  const z = new Blob(idat as BlobPart[]).stream().pipeThrough(new DecompressionStream("deflate"));
  const raw = new Uint8Array(await new Response(z).arrayBuffer());
  assert.equal(raw.length, (width + 1) * height);
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width + 1)], 0, "filter type 0");
    pixels.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
  }
  return { width, height, pixels };
}

Deno.test("png: greyscale grid round-trips through a standard decoder (zlib, CRC-32)", async () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  const side = 3, imgs = Float32Array.from({ length: 2 * 3 * 9 }, (_, k) => (k % 9) / 4 - 1); // 6 images
  const g = imageGrid(imgs, { rows: 2, cols: 3, side, pad: 1, scale: 2 });
  assert.equal(g.width, 2 * (3 * 3 + 4));
  assert.equal(g.height, 2 * (2 * 3 + 3));
  const back = await decodeGray(await encodeGrayPng(g.width, g.height, g.pixels));
  assert.deepEqual(back, g);
  const W = g.width;
  // Image 4 (row 1, column 1), its pixel (y=2, x=1): value 7/4 − 1 = 0.75 → 223; padding is 128.
  const src = (x: number, y: number) => g.pixels[2 * y * W + 2 * x];
  assert.equal(src(1 + 1 * 4 + 1, 1 + 1 * 4 + 2), Math.round(255 * 0.875));
  assert.equal(src(0, 0), 128);
  assert.equal(src(1, 1), 0); // image 0 pixel (0,0) = −1 → black
  assert.throws(() => imageGrid(imgs, { rows: 3, cols: 3, side }), /grid: 54 values/);
});

async function task(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", "cli/sample.ts", ...args] })
    .output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("deno task sample: --help, one-line errors (exit 2), a deterministic 10-row grid from a checkpoint", async () => {
  const help = await task(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--checkpoint DIR/);
  for (
    const [args, re] of [
      [["--out", "x.png"], /^sample: --checkpoint DIR and --out FILE are required/],
      [
        ["--checkpoint", "d", "--out", "x.png", "--steps", "0"],
        /^sample: --steps must be an integer in 1..1000/,
      ],
      [["--checkpoint", "d", "--out", "x.png", "--cfg", "abc"], /^sample: --cfg must be a number/],
      [
        ["--checkpoint", "/nonexistent", "--out", "x.png"],
        /^sample: checkpoint \/nonexistent: config.json not found/,
      ],
      [["--bogus"], /^sample: Unknown option '--bogus'/],
    ] as const
  ) {
    const r = await task([...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  const dir = Deno.makeTempDirSync();
  try {
    const cfg = resolveDitConfig({ hidden: 16, depth: 1, heads: 2, patch: 7 });
    const p = initDitParams(cfg, 1), rng = new Rng(3);
    for (const t of ditLayout(cfg).tensors) {
      if (t.trainable) { for (let i = 0; i < t.size; i++) p[t.offset + i] += 0.2 * rng.normal(); }
    }
    saveDitModel(`${dir}/ck`, cfg, p);
    const args = ["--checkpoint", `${dir}/ck`, "--steps", "3", "--per-class", "2", "--seed", "5", "--json"];
    const r = await task([...args, "--out", `${dir}/a.png`]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.rows, 10);
    const png = Deno.readFileSync(`${dir}/a.png`);
    const g = await decodeGray(png);
    assert.equal(g.width, 2 * (2 * 28 + 3 * 2));
    assert.equal(g.height, 2 * (10 * 28 + 11 * 2));
    assert.ok(new Set(g.pixels).size > 20, "the grid holds more than a few grey levels");
    await task([...args, "--out", `${dir}/b.png`]);
    assert.deepEqual(Deno.readFileSync(`${dir}/b.png`), png);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
