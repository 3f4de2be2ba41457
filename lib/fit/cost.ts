/**
 * Cost models: training compute is 6·N·D divided by the scheme's training speedup, the harmonic
 * combination of forward (⅓ of the work) and backward (⅔) speedups (Quartet §4.2). Speedups come from the
 * bit-operations model, a measured hardware profile, or a user function.
 * @module
 */
import { z } from "zod";

/** A scheme as the cost model sees it. */
export interface CostScheme {
  /** Forward label. */
  fwd: string;
  /** Backward label. */
  bwd: string;
  /** Forward bits (NaN/undefined: guessed from the label's digits). */
  fwdBits?: number;
  /** Backward bits. */
  bwdBits?: number;
}

/** Forward, backward and training speedups relative to the baseline. */
export interface Speedups {
  /** Forward speedup. */
  fwd: number;
  /** Backward speedup. */
  bwd: number;
  /** Training speedup (harmonic: ⅓ forward, ⅔ backward). */
  train: number;
}

/** Maps a scheme (at model size N) to its speedups. */
export interface CostModel {
  /** Shown in chart titles and JSON. */
  name: string;
  /** Speedups of scheme s at model size N. */
  speedups(s: CostScheme, N: number): Speedups;
}

/** Harmonic combination: sp_tr = ((1/3)/sp_fw + (2/3)/sp_bw)^(−1). */
export function trainingSpeedup(fwd: number, bwd: number): number {
  return 1 / (1 / 3 / fwd + 2 / 3 / bwd);
}

/** Baseline-equivalent training compute: 6·N·D / sp_tr. */
export function trainingCompute(N: number, D: number, sp: Speedups): number {
  return (6 * N * D) / sp.train;
}

/** Bits of one side: the column value, else the last number in the label ("mxfp4" → 4), else NaN. */
export function bitsOf(label: string, bits?: number): number {
  if (bits !== undefined && Number.isFinite(bits) && bits > 0) return bits;
  const m = label.match(/(\d+)(?!.*\d)/);
  return m ? Number(m[1]) : NaN;
}

/**
 * The bit-operations model: 2× per halving of bits, forward and backward separately, relative to
 * `referenceBits` (default 8: Quartet costs its BF16 baseline as FP8, "BF16 quality at FP8 speed").
 * The baseline label is always 1×; a side whose bits are unknown is 1×.
 */
export function bopsModel(baseline = "bf16", referenceBits = 8): CostModel {
  const side = (label: string, bits?: number) => {
    if (label === baseline) return 1;
    const b = bitsOf(label, bits);
    return Number.isFinite(b) ? referenceBits / b : 1;
  };
  return {
    name: `bit-operations (vs ${referenceBits}-bit)`,
    speedups(s) {
      const fwd = side(s.fwd, s.fwdBits), bwd = side(s.bwd, s.bwdBits);
      return { fwd, bwd, train: trainingSpeedup(fwd, bwd) };
    },
  };
}

/** Speedup of one label: a constant, or [N, speedup] pairs interpolated linearly in N. */
export type SpeedupTable = number | [number, number][];

/** A measured hardware profile: per-label forward and backward speedups over the baseline. */
export interface HardwareProfile {
  /** Shown in chart titles. */
  name: string;
  /** Forward speedups per forward label. */
  fwd: Record<string, SpeedupTable>;
  /** Backward speedups per backward label. */
  bwd: Record<string, SpeedupTable>;
}

const table = z.union([
  z.number().positive(),
  z.array(z.tuple([z.number().positive(), z.number().positive()])).min(1),
]);

// Validation schema of a hardware-profile JSON file (kept private: zod types are not part of the API).
const HardwareProfileSchema: z.ZodType<HardwareProfile> = z.object({
  name: z.string(),
  fwd: z.record(z.string(), table),
  bwd: z.record(z.string(), table),
}).strict();

/** Linear interpolation in N, clamped at the ends (numpy.interp). */
export function interpolate(points: [number, number][], N: number): number {
  const p = [...points].sort((a, b) => a[0] - b[0]);
  if (N <= p[0][0]) return p[0][1];
  for (let i = 1; i < p.length; i++) {
    if (N <= p[i][0]) {
      return p[i - 1][1] + (p[i][1] - p[i - 1][1]) * (N - p[i - 1][0]) / (p[i][0] - p[i - 1][0]);
    }
  }
  return p[p.length - 1][1];
}

/** Cost model from a profile; labels it does not list (and the baseline) are 1×. */
export function profileModel(profile: HardwareProfile, baseline = "bf16"): CostModel {
  const look = (t: Record<string, SpeedupTable>, label: string, N: number) => {
    if (label === baseline || !(label in t)) return 1;
    const v = t[label];
    return typeof v === "number" ? v : interpolate(v, N);
  };
  return {
    name: profile.name,
    speedups(s, N) {
      const fwd = look(profile.fwd, s.fwd, N), bwd = look(profile.bwd, s.bwd, N);
      return { fwd, bwd, train: trainingSpeedup(fwd, bwd) };
    },
  };
}

/** Cost model from user functions of (label, bits, N) per side. */
export function customModel(
  name: string,
  fwd: (label: string, bits: number, N: number) => number,
  bwd: (label: string, bits: number, N: number) => number,
): CostModel {
  return {
    name,
    speedups(s, N) {
      const f = fwd(s.fwd, bitsOf(s.fwd, s.fwdBits), N), b = bwd(s.bwd, bitsOf(s.bwd, s.bwdBits), N);
      return { fwd: f, bwd: b, train: trainingSpeedup(f, b) };
    },
  };
}

/** Validates parsed JSON as a hardware profile; throws an Error with a one-line message. */
export function parseProfile(json: unknown, where = "profile"): HardwareProfile {
  const r = HardwareProfileSchema.safeParse(json);
  if (!r.success) throw new Error(`${where}: ${z.prettifyError(r.error).replaceAll("\n", " ")}`);
  return r.data;
}

/** Reads and validates a hardware-profile JSON file. */
export async function loadProfile(path: string): Promise<HardwareProfile> {
  return parseProfile(JSON.parse(await Deno.readTextFile(path)), path);
}
