/**
 * Greyscale PNG output for image grids (the sample grids of the DiT), without a rendering library:
 * 8-bit greyscale, non-interlaced, filter 0 on every row, IDAT compressed with the platform's zlib
 * (`CompressionStream("deflate")` emits the zlib stream PNG requires), CRC-32 per chunk.
 *
 * Public API: {@link encodeGrayPng}, {@link imageGrid} (rows × cols of equally sized images in [−1, 1],
 * white on black like MNIST, with padding and integer upscaling), {@link crc32}.
 * @module
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, as PNG uses) of bytes. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length), dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** PNG bytes of a width × height 8-bit greyscale image (row-major, 0 = black). */
export async function encodeGrayPng(width: number, height: number, pixels: Uint8Array): Promise<Uint8Array> {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`png: bad size ${width}×${height}`);
  }
  if (pixels.length !== width * height) {
    throw new Error(`png: ${pixels.length} pixels for ${width}×${height}`);
  }
  const raw = new Uint8Array((width + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const z = new Blob([raw]).stream().pipeThrough(new CompressionStream("deflate"));
  const idat = new Uint8Array(await new Response(z).arrayBuffer());
  const ihdr = new Uint8Array(13), dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8); // bit depth 8, colour type 0 (grey), deflate, filter 0, no interlace
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", idat),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), o += p.length;
  return out;
}

/** Layout of {@link imageGrid}. */
export interface GridOptions {
  /** Rows of the grid. */
  rows: number;
  /** Columns of the grid. */
  cols: number;
  /** Image side in pixels (square images). */
  side: number;
  /** Gap between images and around the grid, in source pixels (2). */
  pad?: number;
  /** Integer upscaling factor (1). */
  scale?: number;
}

/**
 * Tiles rows·cols square images (values in [−1, 1], image i at row ⌊i/cols⌋, column i mod cols) into
 * one greyscale picture: −1 → 0 (black), 1 → 255 (white), clamped; padding is mid-grey (128).
 */
export function imageGrid(
  images: ArrayLike<number>,
  o: GridOptions,
): { width: number; height: number; pixels: Uint8Array } {
  const { rows, cols, side } = o, pad = o.pad ?? 2, scale = o.scale ?? 1;
  if (images.length !== rows * cols * side * side) {
    throw new Error(`grid: ${images.length} values for ${rows}×${cols} images of ${side}×${side}`);
  }
  const w = cols * side + (cols + 1) * pad, h = rows * side + (rows + 1) * pad;
  const src = new Uint8Array(w * h).fill(128);
  for (let i = 0; i < rows * cols; i++) {
    const r = Math.floor(i / cols), c = i % cols, x0 = pad + c * (side + pad), y0 = pad + r * (side + pad);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const v = images[(i * side + y) * side + x];
        src[(y0 + y) * w + x0 + x] = Math.round(255 * Math.min(1, Math.max(0, (v + 1) / 2)));
      }
    }
  }
  if (scale === 1) return { width: w, height: h, pixels: src };
  const W = w * scale, H = h * scale, out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) out[y * W + x] = src[Math.floor(y / scale) * w + Math.floor(x / scale)];
  }
  return { width: W, height: H, pixels: out };
}
