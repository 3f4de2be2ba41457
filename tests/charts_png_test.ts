import assert from "node:assert/strict";
import { svgToPng, toPng, toSvg } from "../lib/charts/render.ts";
import { residualSpec } from "../lib/charts/specs.ts";
import { fitRuns } from "../lib/fit/fit.ts";
import { syntheticRuns } from "../lib/fit/synthetic.ts";

/** Minimal PNG decoder (8-bit RGBA, non-interlaced: what resvg writes) → pixels. */
async function decodePng(png: Uint8Array): Promise<{ width: number; height: number; rgba: Uint8Array }> {
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8, width = 0, height = 0;
  const idat: Uint8Array[] = [];
  while (pos < png.length) {
    const len = dv.getUint32(pos), type = new TextDecoder().decode(png.subarray(pos + 4, pos + 8));
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = dv.getUint32(pos + 8), height = dv.getUint32(pos + 12);
      assert.equal(data[8], 8, "bit depth");
      assert.equal(data[9], 6, "colour type RGBA");
      assert.equal(data[12], 0, "interlace");
    }
    if (type === "IDAT") idat.push(data);
    pos += 12 + len;
  }
  const z = new Blob(idat as BlobPart[]).stream().pipeThrough(new DecompressionStream("deflate"));
  const raw = new Uint8Array(await new Response(z).arrayBuffer());
  const stride = width * 4, rgba = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= 4 ? rgba[y * stride + x - 4] : 0, b = y > 0 ? rgba[(y - 1) * stride + x] : 0;
      const c = x >= 4 && y > 0 ? rgba[(y - 1) * stride + x - 4] : 0;
      let p = 0;
      if (f === 1) p = a;
      else if (f === 2) p = b;
      else if (f === 3) p = (a + b) >> 1;
      else if (f === 4) {
        const q = a + b - c, pa = Math.abs(q - a), pb = Math.abs(q - b), pc = Math.abs(q - c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      rgba[y * stride + x] = (src[x] + p) & 255;
    }
  }
  return { width, height, rgba };
}

/** Non-white pixels in a box given as fractions of the image. */
function inked(
  img: { width: number; height: number; rgba: Uint8Array },
  x0: number,
  x1: number,
  y0: number,
  y1: number,
) {
  let n = 0;
  for (let y = Math.floor(img.height * y0); y < Math.floor(img.height * y1); y++) {
    for (let x = Math.floor(img.width * x0); x < Math.floor(img.width * x1); x++) {
      const i = (y * img.width + x) * 4;
      if (img.rgba[i] < 200 || img.rgba[i + 1] < 200 || img.rgba[i + 2] < 200) n++;
    }
  }
  return n;
}

Deno.test("PNG render contains text: axis-title region has ink; an SVG without text leaves it blank", async () => {
  const fit = fitRuns(syntheticRuns({ noise: 0.005 }), { form: "quartet" });
  const spec = residualSpec(fit);
  const img = await decodePng(await toPng(spec));
  assert.ok(img.width > 800 && img.height > 400, `${img.width}×${img.height}`);
  // The x-axis title sits alone in the bottom strip, centred under the plot.
  const bottom = [0.25, 0.6, 0.94, 1] as const;
  assert.ok(inked(img, ...bottom) > 200, "x-axis title missing from the PNG (fonts not loaded?)");
  // The y-axis title is the only thing in the leftmost strip.
  assert.ok(inked(img, 0, 0.025, 0.3, 0.8) > 200, "y-axis title missing");
  // Control: the same chart with its text elements removed has no ink there.
  const svg = (await toSvg(spec)).replace(/<text[^>]*>[^<]*<\/text>/g, "");
  const blank = await decodePng(await svgToPng(svg));
  assert.equal(inked(blank, ...bottom), 0);
});
