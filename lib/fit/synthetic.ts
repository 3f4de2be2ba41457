/**
 * Synthetic results from a known law, for tests and for the notebook until real sweep results exist.
 * Everything it writes is marked synthetic: adapter and commit columns say "synthetic", and the directory
 * gets a SYNTHETIC file describing the law used.
 * @module
 */
import { stringify } from "csv-stringify/sync";
import type { Run } from "./data.ts";
import { makeRng } from "./random.ts";

/** A tiny Llama-style model of the grid. */
export interface SyntheticModel {
  /** Decoder blocks. */
  layers: number;
  /** Residual width. */
  d_model: number;
  /** Attention heads. */
  heads: number;
  /** SwiGLU hidden size. */
  ffn: number;
}

/** A (fwd, bwd) scheme of the grid. */
export interface SyntheticScheme {
  /** Forward label. */
  fwd: string;
  /** Backward label. */
  bwd: string;
  /** Forward bits. */
  fwd_bits: number;
  /** Backward bits. */
  bwd_bits: number;
}

/** The law and grid to sample. */
export interface SyntheticOptions {
  /** Quartet constants (default: Quartet Table 6: A 1.52e5, α 0.589, B 5.25e5, β 0.544, E 1.35, γ 0.274). */
  params?: { A: number; alpha: number; B: number; beta: number; E: number; gamma: number };
  /** True effN per forward label (default quest 0.65, rtn 0.6). */
  effN?: Record<string, number>;
  /** True effD per backward label (default sr 0.9). */
  effD?: Record<string, number>;
  /** Models (default five, 0.1M–14M non-embedding parameters). */
  models?: SyntheticModel[];
  /** D/N ratios (default 10, 20, 50, 100, 200). */
  ratios?: number[];
  /** Schemes (default bf16:bf16, quest:bf16, rtn:bf16, bf16:sr, quest:sr). */
  schemes?: SyntheticScheme[];
  /** Multiplicative log-normal noise σ (default 0.005). */
  noise?: number;
  /** PRNG seed for the noise (default 7). */
  seed?: number;
  /** Training seeds: one row (replicate, independent noise) per seed at every point (default [0]). */
  seeds?: number[];
}

/** Default tiny-model grid. */
export const SYNTHETIC_MODELS: SyntheticModel[] = [
  { layers: 2, d_model: 64, heads: 2, ffn: 192 },
  { layers: 4, d_model: 128, heads: 4, ffn: 352 },
  { layers: 4, d_model: 192, heads: 6, ffn: 512 },
  { layers: 6, d_model: 256, heads: 8, ffn: 704 },
  { layers: 8, d_model: 384, heads: 12, ffn: 1024 },
];

/** Default schemes: the baseline, two forward-only, one backward-only, one fully quantized. */
export const SYNTHETIC_SCHEMES: SyntheticScheme[] = [
  { fwd: "bf16", bwd: "bf16", fwd_bits: 16, bwd_bits: 16 },
  { fwd: "quest", bwd: "bf16", fwd_bits: 4, bwd_bits: 16 },
  { fwd: "rtn", bwd: "bf16", fwd_bits: 4, bwd_bits: 16 },
  { fwd: "bf16", bwd: "sr", fwd_bits: 16, bwd_bits: 4 },
  { fwd: "quest", bwd: "sr", fwd_bits: 4, bwd_bits: 4 },
];

/** Non-embedding parameters: n_layer·(4d² + 3·d·h + 2d) + d (quartet.md §2.1). */
export function nonEmbeddingParams(m: SyntheticModel): number {
  const d = m.d_model;
  return m.layers * (4 * d * d + 3 * d * m.ffn + 2 * d) + d;
}

const CONTEXT = 128, BATCH = 16, VOCAB = 256;

/** One synthetic runs.csv row per (model, ratio, scheme), plus one diverged run to exercise filtering. */
export function syntheticRows(o: SyntheticOptions = {}): Record<string, string | number>[] {
  const p = o.params ?? { A: 1.52e5, alpha: 0.589, B: 5.25e5, beta: 0.544, E: 1.35, gamma: 0.274 };
  const effN = o.effN ?? { quest: 0.65, rtn: 0.6 }, effD = o.effD ?? { sr: 0.9 };
  const rng = makeRng(o.seed ?? 7), noise = o.noise ?? 0.005;
  const rows: Record<string, string | number>[] = [];
  let k = 0;
  for (const m of o.models ?? SYNTHETIC_MODELS) {
    const N = nonEmbeddingParams(m);
    for (const ratio of o.ratios ?? [10, 20, 50, 100, 200]) {
      const steps = Math.max(1, Math.round((ratio * N) / (CONTEXT * BATCH)));
      const D = steps * CONTEXT * BATCH;
      for (const s of o.schemes ?? SYNTHETIC_SCHEMES) {
        for (const seed of o.seeds ?? [0]) {
          const eN = effN[s.fwd] ?? 1, eD = effD[s.bwd] ?? 1;
          const L = ((p.A / (N * eN) ** p.alpha + p.B / (D * eD) ** p.beta) ** p.gamma + p.E) *
            Math.exp(noise * rng.normal());
          const id = `syn-${String(++k).padStart(3, "0")}`;
          const total = N + 2 * VOCAB * m.d_model;
          rows.push({
            run_id: id,
            status: "finished",
            scheme: `${s.fwd}:${s.bwd}`,
            ...s,
            ...m,
            context: CONTEXT,
            non_embedding_params: N,
            total_params: total,
            tokens: D,
            flops: 6 * N * D,
            final_val_loss: L,
            final_train_loss: L * (1 - 0.01 * rng.next()),
            wall_seconds: (6 * N * D) / 2e9,
            tokens_per_second: 2e9 / (6 * N),
            adapter: "synthetic",
            seed,
            commit: "synthetic",
          });
        }
      }
    }
  }
  const first = {
    ...rows[0],
    run_id: "syn-diverged",
    status: "diverged",
    final_val_loss: "",
    final_train_loss: "",
  };
  rows.push(first);
  return rows;
}

/** Runs (as the fitter sees them) drawn from the law; handy for tests. */
export function syntheticRuns(o: SyntheticOptions = {}): Run[] {
  return syntheticRows(o).filter((r) => r.status === "finished").map((r) => ({
    id: String(r.run_id),
    N: Number(r.non_embedding_params),
    D: Number(r.tokens),
    L: Number(r.final_val_loss),
    fwd: String(r.fwd),
    bwd: String(r.bwd),
    bits: [Number(r.fwd_bits)],
    fwdBits: Number(r.fwd_bits),
    bwdBits: Number(r.bwd_bits),
  }));
}

async function writeAtomic(path: string, text: string) {
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/** Writes a results directory (runs.csv, curves/<run_id>.csv, SYNTHETIC) in the sweep's layout. */
export async function writeSyntheticResults(dir: string, o: SyntheticOptions = {}): Promise<void> {
  const rows = syntheticRows(o);
  await Deno.mkdir(`${dir}/curves`, { recursive: true });
  await writeAtomic(`${dir}/runs.csv`, stringify(rows, { header: true, columns: Object.keys(rows[0]) }));
  for (const r of rows) {
    if (r.status !== "finished") continue;
    const D = Number(r.tokens), L = Number(r.final_val_loss), per = CONTEXT * BATCH;
    const steps = Math.round(D / per), pts = 20;
    const curve = Array.from({ length: pts }, (_, j) => {
      const step = Math.max(1, Math.round((steps * (j + 1)) / pts)), t = step * per;
      // A power-law approach to the final loss; val evaluated every 4th point and at the end.
      const loss = L + 2.5 * ((D / t) ** 0.5 - 1) / Math.sqrt(D / per);
      return {
        step,
        tokens: t,
        lr: 1e-3,
        train_loss: loss * 1.01,
        val_loss: j % 4 === 3 || j === pts - 1 ? loss : "",
      };
    });
    await writeAtomic(`${dir}/curves/${r.run_id}.csv`, stringify(curve, { header: true }));
  }
  await writeAtomic(
    `${dir}/SYNTHETIC`,
    "Synthetic results generated by lib/fit/synthetic.ts from the Quartet law (defaults: Table 6 constants,\n" +
      "effN quest 0.65, rtn 0.6; effD sr 0.9; 0.5% log-normal noise). Not measured: do not cite.\n" +
      `options: ${JSON.stringify(o)}\n`,
  );
}
