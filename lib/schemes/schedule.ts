/**
 * Target-precision schedule (Zhou et al. 2025, fp4-methods.md §2): train with one scheme, then switch
 * every quantized GEMM to a target scheme for the last fraction of training. Encoded in the run's labels
 * so it is recorded with the run and usable with any scheme: a half's label `A~B@f` means "A for the
 * first fraction f of the steps, then B" (e.g. fwd `fp4-mixed~fp8@0.9`, bwd `fp8~fp8@0.9`).
 * @module
 */

/** A scheme choice (same shape as the engine's SchemeChoice). */
export interface Choice {
  fwd: string;
  bwd: string;
}

/** A parsed switch: the scheme before and after, and the fraction of steps run with the first. */
export interface SchemeSwitch {
  first: Choice;
  second: Choice;
  fraction: number;
}

const RE = /^([^~@]+)~([^~@]+)@([0-9.]+)$/;

/** Parses the switch encoded in a choice's labels; null when neither half has one. Throws one line on bad syntax. */
export function parseSwitch(c: Choice): SchemeSwitch | null {
  const f = RE.exec(c.fwd), b = RE.exec(c.bwd);
  if (!f && !b) {
    if (c.fwd.includes("~") || c.bwd.includes("~")) {
      throw new Error(`bad scheme switch "${c.fwd}" / "${c.bwd}"`);
    }
    return null;
  }
  const fr = Number((f ?? b)![3]);
  if (f && b && Number(b[3]) !== fr) throw new Error("forward and backward switch fractions differ");
  if (!(fr > 0 && fr < 1)) throw new Error(`switch fraction must be in (0, 1), got ${fr}`);
  return {
    first: { fwd: f ? f[1] : c.fwd, bwd: b ? b[1] : c.bwd },
    second: { fwd: f ? f[2] : c.fwd, bwd: b ? b[2] : c.bwd },
    fraction: fr,
  };
}

/** Composes `c` with a switch to `target` after `fraction` of the steps. */
export function withSwitch(c: Choice, target: Choice, fraction: number): Choice {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`--switch-at must be in (0, 1), got ${fraction}`);
  return { fwd: `${c.fwd}~${target.fwd}@${fraction}`, bwd: `${c.bwd}~${target.bwd}@${fraction}` };
}

/** The step at which a run of `steps` switches (the first step trained with the target scheme). */
export function switchStep(sw: SchemeSwitch, steps: number): number {
  return Math.round(sw.fraction * steps);
}
