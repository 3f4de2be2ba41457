/**
 * Images ↔ patch rows of the GPU DiT: patchify (within a patch ordered (c, i, j), the patch embedding's
 * [hidden, C, p, p] weight read as [hidden, C·p·p]), unpatchify (final-layer outputs ordered (i, j, c), DiT's
 * "nhwpqc->nchpwq"), and the per-image token padding to the GEMM tile.
 * @module
 */
import { type DitConfig, ditPatchDim, ditTokens } from "./config.ts";

/** Tokens per image after padding to the GEMM tile (8). */
export function paddedTokens(c: DitConfig): number {
  return Math.ceil(ditTokens(c) / 8) * 8;
}

/** Patch rows [B·Tp, C·p·p] (within a patch ordered (c, i, j); padding rows zero) of images [B, C, S, S]. */
export function patchify(
  cfg: DitConfig,
  x: ArrayLike<number>,
  B: number,
  Tp: number,
): Float32Array<ArrayBuffer> {
  const C = cfg.inChannels, p = cfg.patch, S = cfg.inputSize, G = S / p, P = ditPatchDim(cfg);
  const out = new Float32Array(B * Tp * P);
  for (let b = 0; b < B; b++) {
    for (let py = 0; py < G; py++) {
      for (let px = 0; px < G; px++) {
        const o = (b * Tp + py * G + px) * P;
        for (let c = 0; c < C; c++) {
          for (let i = 0; i < p; i++) {
            for (let j = 0; j < p; j++) {
              out[o + (c * p + i) * p + j] = x[((b * C + c) * S + py * p + i) * S + px * p + j];
            }
          }
        }
      }
    }
  }
  return out;
}

/** Images [B, C, S, S] from final-layer rows [B·Tp, p·p·C] (within a patch ordered (i, j, c)). */
export function unpatchify(cfg: DitConfig, rows: Float32Array, B: number, Tp: number): Float32Array {
  const C = cfg.inChannels, p = cfg.patch, S = cfg.inputSize, G = S / p, P = ditPatchDim(cfg);
  const out = new Float32Array(B * C * S * S);
  for (let b = 0; b < B; b++) {
    for (let tok = 0; tok < G * G; tok++) {
      const py = Math.floor(tok / G), px = tok % G;
      for (let k = 0; k < P; k++) {
        const c = k % C, ij = Math.floor(k / C), i = Math.floor(ij / p), j = ij % p;
        out[((b * C + c) * S + py * p + i) * S + px * p + j] = rows[(b * Tp + tok) * P + k];
      }
    }
  }
  return out;
}
