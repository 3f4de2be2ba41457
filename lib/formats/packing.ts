/**
 * Packing: E2M1 (any 4-bit) codes 8 per u32, little-endian nibbles (element 8w+i in bits 4i..4i+3),
 * the layout the FP4 matmul kernels read; E8M0 scales one per byte.
 * @module
 */

/** Packs 4-bit codes (low nibble of each entry) 8 per u32; the length is padded up to a multiple of 8 with 0. */
export function packNibbles(codes: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(Math.ceil(codes.length / 8));
  for (let i = 0; i < codes.length; i++) out[i >>> 3] |= (codes[i] & 0xf) << ((i & 7) * 4);
  return out;
}

/** Unpacks `n` 4-bit codes from packNibbles output. */
export function unpackNibbles(words: Uint32Array, n: number): Uint8Array {
  if (n > words.length * 8) {
    throw new Error(`unpackNibbles: ${n} codes need ${Math.ceil(n / 8)} words, got ${words.length}`);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (words[i >>> 3] >>> ((i & 7) * 4)) & 0xf;
  return out;
}

/** E8M0 scale bytes (biased exponents e + 127) from power-of-two f32 scales; throws on a non-power of two. */
export function packE8M0(scales: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(scales.length);
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let i = 0; i < scales.length; i++) {
    f[0] = scales[i];
    const b = u[0];
    const e = (b >>> 23) & 0xff;
    if (b & 0x807fffff && !(e === 0 && (b & 0x7fffff) === 0x400000)) {
      throw new Error(`packE8M0: ${scales[i]} is not a positive power of two in 2^-127..2^127`);
    }
    out[i] = e === 0 ? 0 : e; // 2^-127 is the f32 subnormal 0x00400000
  }
  return out;
}

/** f32 scales from E8M0 bytes (0xFF → NaN). */
export function unpackE8M0(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < bytes.length; i++) {
    const e = bytes[i];
    u[i] = e === 255 ? 0x7fc00000 : e === 0 ? 0x400000 : e << 23;
  }
  return out;
}
