/**
 * DDPM noising and DDIM sampling for the DiT (the DiT code's `gaussian_diffusion` with
 * `create_diffusion(timestep_respacing="")`: 1,000 steps, linear β from 1e-4 to 0.02, ε prediction,
 * fixed variance).
 *
 * Public API:
 * - {@link ddpmSchedule}: β_t and ᾱ_t (float64, as NumPy computes them).
 * - {@link qSample}: x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε with float32 coefficients, as DiT's `q_sample`.
 * - {@link trainingDraw}: the timesteps (uniform in [0, 999]), noise and label drops (probability 0.1 →
 *   the null class, for classifier-free guidance) of training step `step`: a pure function of (seed, step).
 * - {@link validationTuples}: the fixed evaluation set — `count` held-out images (a seeded permutation of
 *   the validation split), their labels, t on an even grid over [0, 999] (t_i = round(i·999/(count−1))) and
 *   seeded noise; the validation loss is the mean ε-MSE over it (see {@link evalInputsFrom}).
 * - {@link ddimTimesteps}, {@link ddimSample}: deterministic DDIM (η = 0) over an injected batch predictor
 *   `(x, t, y) => ε̂` with classifier-free guidance ε̂ = ε̂(∅) + s·(ε̂(y) − ε̂(∅)); the reference model and
 *   the GPU model both drive it.
 * @module
 */
import { Rng } from "../../engine/rng.ts";

/** DDPM steps. */
export const DDPM_STEPS = 1000;
/** Label-drop probability in training (classifier-free guidance). */
export const LABEL_DROP = 0.1;

/** The β schedule and cumulative products. */
export interface DdpmSchedule {
  /** β_t, t = 0 … steps−1. */
  betas: Float64Array;
  /** ᾱ_t = Π_{s≤t}(1 − β_s). */
  alphasCumprod: Float64Array;
}

let schedule: DdpmSchedule | undefined;

/** The linear schedule (1,000 steps, β from 1e-4 to 0.02, NumPy's linspace in float64). */
export function ddpmSchedule(): DdpmSchedule {
  if (schedule) return schedule;
  const n = DDPM_STEPS, betas = new Float64Array(n), ac = new Float64Array(n);
  const b0 = 1e-4, b1 = 0.02, step = (b1 - b0) / (n - 1);
  let prod = 1;
  for (let t = 0; t < n; t++) {
    betas[t] = t === n - 1 ? b1 : b0 + t * step;
    prod *= 1 - betas[t];
    ac[t] = prod;
  }
  schedule = { betas, alphasCumprod: ac };
  return schedule;
}

/** x_t for a batch: x₀ and ε [B, …], t [B]; float32 like DiT's `_extract_into_tensor(…).float()`. */
export function qSample(x0: ArrayLike<number>, t: ArrayLike<number>, noise: ArrayLike<number>): Float32Array {
  const B = t.length, per = x0.length / B, ac = ddpmSchedule().alphasCumprod;
  const out = new Float32Array(x0.length);
  for (let b = 0; b < B; b++) {
    const tb = t[b];
    if (!(Number.isInteger(tb) && tb >= 0 && tb < DDPM_STEPS)) {
      throw new Error(`diffusion: timestep ${tb} out of range`);
    }
    const a = Math.fround(Math.sqrt(ac[tb])), s = Math.fround(Math.sqrt(1 - ac[tb]));
    for (let k = b * per; k < (b + 1) * per; k++) {
      out[k] = Math.fround(a * Math.fround(x0[k])) + Math.fround(s * Math.fround(noise[k]));
    }
  }
  return out;
}

/** The random part of one training step. */
export interface TrainingDraw {
  /** Timesteps [B], uniform integers in [0, 999]. */
  t: Int32Array;
  /** ε [B·per] standard normal. */
  noise: Float32Array;
  /** Labels after dropping (dropped → numClasses, the null class). */
  y: Int32Array;
}

/** Timesteps, noise and label drops of training step `step` (pure function of seed and step). */
export function trainingDraw(
  seed: number,
  step: number,
  labels: ArrayLike<number>,
  perImage: number,
  numClasses: number,
  dropProb = LABEL_DROP,
): TrainingDraw {
  const B = labels.length;
  const rng = new Rng(seed, 0x64647077, step);
  const t = new Int32Array(B), y = new Int32Array(B), noise = new Float32Array(B * perImage);
  for (let b = 0; b < B; b++) {
    t[b] = rng.int(DDPM_STEPS);
    y[b] = rng.float() < dropProb ? numClasses : labels[b];
  }
  for (let k = 0; k < noise.length; k++) noise[k] = rng.normal();
  return { t, noise, y };
}

/** An evaluation set in the `inputs` file's terms (see checkpoint.ts). */
export interface EvalInputs {
  /** Batch size B. */
  batch: number;
  /** Clean images x₀ [B, 1, 28, 28] in [−1, 1]. */
  x0: Float32Array;
  /** Labels [B]. */
  y: Int32Array;
  /** Timesteps [B]. */
  t: Int32Array;
  /** ε [B, 1, 28, 28]. */
  noise: Float32Array;
}

/**
 * The fixed validation tuples: `count` images of a split (seeded permutation, no repeats while
 * count ≤ split size), their labels, t_i = round(i·999/(count−1)) and seeded standard-normal noise.
 */
export function validationTuples(
  split: { count: number; images: Float32Array; labels: Int32Array },
  count: number,
  seed: number,
): EvalInputs {
  if (!Number.isInteger(count) || count < 2) {
    throw new Error(`diffusion: validation count must be ≥ 2 (got ${count})`);
  }
  const per = split.images.length / split.count;
  const rng = new Rng(seed, 0x76616c);
  const order = Array.from({ length: split.count }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const x0 = new Float32Array(count * per), y = new Int32Array(count), t = new Int32Array(count);
  const noise = new Float32Array(count * per);
  for (let i = 0; i < count; i++) {
    const k = order[i % order.length];
    x0.set(split.images.subarray(k * per, (k + 1) * per), i * per);
    y[i] = split.labels[k];
    t[i] = Math.round(i * (DDPM_STEPS - 1) / (count - 1));
  }
  for (let k = 0; k < noise.length; k++) noise[k] = rng.normal();
  return { batch: count, x0, y, t, noise };
}

/** Model input (x_t, t, y) and target ε of an evaluation set. */
export function evalInputsFrom(
  e: EvalInputs,
): { x: Float32Array; t: Int32Array; y: Int32Array; target: Float32Array } {
  return { x: qSample(e.x0, e.t, e.noise), t: e.t, y: e.y, target: e.noise };
}

/** A batch noise predictor: x [B·per], t [B], y [B] → ε̂ [B·per]. */
export type EpsPredictor = (
  x: Float32Array,
  t: Int32Array,
  y: Int32Array,
) => ArrayLike<number> | Promise<ArrayLike<number>>;

/** DDIM timesteps for `steps` steps: t_k = floor(k·1000/steps), k < steps (DiT's "ddimN" spacing for N | 1000). */
export function ddimTimesteps(steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > DDPM_STEPS) {
    throw new Error(`diffusion: DDIM steps must be an integer in 1..${DDPM_STEPS} (got ${steps})`);
  }
  return Array.from({ length: steps }, (_, k) => Math.floor(k * DDPM_STEPS / steps));
}

/** Options of {@link ddimSample}. */
export interface DdimOptions {
  /** Class of each sample [B]. */
  labels: ArrayLike<number>;
  /** Values per image (C·H·W). */
  perImage: number;
  /** Null class index (numClasses). */
  nullClass: number;
  /** DDIM steps (50). */
  steps?: number;
  /** Guidance scale s (4); 1 = conditional only (no unconditional pass). */
  cfg?: number;
  /** Seed of the initial noise. */
  seed?: number;
  /** Clip the predicted x₀ to [−1, 1] at each step (true: pixel-space data in [−1, 1]). */
  clip?: boolean;
  /** Predictor calls carry at most this many images (default: all 2B at once). */
  maxBatch?: number;
  /**
   * Stochasticity η of DDIM (Song et al. 2021, eq. 16): 0 (default) is deterministic DDIM, 1 the DDPM posterior
   * variance on the DDIM step sequence. Fresh noise comes from a second stream of `seed`.
   */
  eta?: number;
}

/** DDIM (η = 0 by default: deterministic) with classifier-free guidance; returns x₀ samples [B·perImage]. */
export async function ddimSample(predict: EpsPredictor, o: DdimOptions): Promise<Float32Array> {
  const B = o.labels.length, per = o.perImage, steps = o.steps ?? 50, s = o.cfg ?? 4, clip = o.clip ?? true;
  const eta = o.eta ?? 0;
  if (!(s >= 0)) throw new Error(`diffusion: guidance scale must be ≥ 0 (got ${s})`);
  if (!(eta >= 0 && eta <= 1)) throw new Error(`diffusion: eta must be in [0, 1] (got ${eta})`);
  const stepNoise = new Rng(o.seed ?? 0, 0x6574612e);
  const ac = ddpmSchedule().alphasCumprod, ts = ddimTimesteps(steps);
  const rng = new Rng(o.seed ?? 0, 0x6464696d);
  const x = new Float64Array(B * per);
  for (let k = 0; k < x.length; k++) x[k] = rng.normal();
  const guided = s !== 1;
  const n = guided ? 2 * B : B;
  const yy = new Int32Array(n);
  for (let b = 0; b < B; b++) {
    yy[b] = o.labels[b];
    if (guided) yy[B + b] = o.nullClass;
  }
  const maxBatch = o.maxBatch ?? n;
  for (let k = steps - 1; k >= 0; k--) {
    const t = ts[k];
    const xin = new Float32Array(n * per);
    for (let r = 0; r < n; r++) {
      xin.set(Float32Array.from(x.subarray((r % B) * per, (r % B + 1) * per)), r * per);
    }
    const eps = new Float64Array(n * per);
    for (let a = 0; a < n; a += maxBatch) {
      const m = Math.min(maxBatch, n - a);
      const out = await predict(
        xin.slice(a * per, (a + m) * per),
        new Int32Array(m).fill(t),
        yy.slice(a, a + m),
      );
      if (out.length !== m * per) {
        throw new Error(`diffusion: predictor returned ${out.length} values, want ${m * per}`);
      }
      for (let i = 0; i < m * per; i++) eps[a * per + i] = out[i];
    }
    const at = ac[t], aPrev = k > 0 ? ac[ts[k - 1]] : 1;
    for (let i = 0; i < B * per; i++) {
      const e = guided ? eps[B * per + i] + s * (eps[i] - eps[B * per + i]) : eps[i];
      let x0 = (x[i] - Math.sqrt(1 - at) * e) / Math.sqrt(at);
      if (clip) x0 = Math.max(-1, Math.min(1, x0));
      const e2 = (x[i] - Math.sqrt(at) * x0) / Math.sqrt(1 - at);
      if (eta === 0) x[i] = Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * e2;
      else {
        const sigma = eta * Math.sqrt((1 - aPrev) / (1 - at)) * Math.sqrt(1 - at / aPrev);
        x[i] = Math.sqrt(aPrev) * x0 + Math.sqrt(Math.max(0, 1 - aPrev - sigma * sigma)) * e2 +
          sigma * stepNoise.normal();
      }
    }
  }
  return Float32Array.from(x);
}
