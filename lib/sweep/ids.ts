/**
 * Stable run ids: a readable prefix and a hash, both derived from the resolved TrainConfig only,
 * so reordering, renaming ladder entries or extending a spec never renames a run.
 * @module
 */
import type { TrainConfig } from "../engine/api.ts";
import { canonicalJson } from "../spec/hash.ts";
import { modelDims } from "../models/dims.ts";

export { canonicalJson };

/** 1.31M-style count with 3 significant digits. */
export function compactCount(n: number): string {
  const units: [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [scale, unit] of units) if (n >= scale) return `${Number((n / scale).toPrecision(3))}${unit}`;
  return `${n}`;
}

/** Lower-case hex SHA-256 of a string. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * `bf16-L2d64-t1.31M-s0-3fa9c2d1`: scheme (+ `_attn-NAME` for a quantized attention recipe, `_ft` when
 * initialised from a checkpoint), shape, tokens, seed, then 8 hex digits of the config hash.
 */
export async function runId(config: TrainConfig): Promise<string> {
  const { fwd, bwd } = config.scheme;
  // f32 attention and from-scratch runs add nothing (ids of existing runs unchanged)
  const att = config.attention !== undefined ? `_attn-${config.attention}` : "";
  const ft = config.initFrom !== undefined ? "_ft" : "";
  const scheme = (fwd === bwd ? fwd : `${fwd}+${bwd}`).concat(att, ft).replace(/[^A-Za-z0-9.+_-]/g, "_");
  const m = modelDims(config.model);
  const tokens = config.steps * config.batch * m.context;
  const prefix = `${scheme}-${m.family === "dit" ? "dit" : ""}L${m.layers}d${m.dModel}-t${
    compactCount(tokens)
  }-s${config.seed}`;
  // inline definitions are already hashed into their labels; the hash covers the config without them
  const { fwdDef: _f, bwdDef: _b, ...labels } = config.scheme;
  return `${prefix}-${(await sha256Hex(canonicalJson({ ...config, scheme: labels }))).slice(0, 8)}`;
}
