/**
 * The post-training quantization chart: δ (loss added by PTQ) against D/N, one panel per recipe, one colour
 * per bit width, from an experiment's ptq.csv (lib/sweep/ptq_stage.ts) joined with its runs.csv (N = the
 * run's non-embedding parameters, D = its training tokens). Log–log axes, so Kumar et al.'s post-training
 * form δ ∝ D^γD / N^γN reads as straight lines; each panel carries a least-squares power-law trend per width.
 * δ ≤ 0 (quantization noise that happened to help) cannot sit on a log axis: such jobs are counted in the
 * subtitle, not drawn.
 * @module
 */
import { parse } from "csv-parse/sync";
import { decades, sizeLabel, THEME, VL_SCHEMA, type VlSpec } from "./specs.ts";

/** One PTQ job as the chart reads it. */
export interface PtqPoint {
  /** Run id. */
  run: string;
  /** Recipe. */
  recipe: string;
  /** Bit widths label (W4A8). */
  bits: string;
  /** Non-embedding parameters N. */
  N: number;
  /** Training tokens D. */
  D: number;
  /** δ = loss after − loss before. */
  delta: number;
}

function records(text: string, what: string): Record<string, string>[] {
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, relax_column_count: true }) as string[][];
  } catch (e) {
    throw new Error(`${what} is not valid CSV: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!rows.length) return [];
  const cols = rows[0].map((c) => c.trim());
  return rows.slice(1).map((r) => Object.fromEntries(cols.map((c, k) => [c, (r[k] ?? "").trim()])));
}

/**
 * Joins ptq.csv with runs.csv: N and D come from the run (non_embedding_params, tokens), or from ptq.csv's
 * own params / tokens columns when the run is not in runs.csv. Jobs with neither are skipped.
 */
export function ptqPoints(ptqCsv: string, runsCsv = ""): PtqPoint[] {
  const runs = new Map(records(runsCsv, "runs.csv").map((r) => [r.run_id, r]));
  const out: PtqPoint[] = [];
  for (const r of records(ptqCsv, "ptq.csv")) {
    const run = runs.get(r.run_id);
    const N = Number(run?.non_embedding_params ?? r.params), D = Number(run?.tokens ?? r.tokens);
    const delta = Number(r.delta);
    if (!(N > 0 && D > 0 && Number.isFinite(delta))) continue;
    out.push({ run: r.run_id, recipe: r.recipe, bits: `W${r.w_bits}A${r.a_bits}`, N, D, delta });
  }
  return out;
}

/** δ against D/N per recipe (facets), colour = bit widths, log–log, with power-law trends. */
export function ptqDeltaSpec(points: PtqPoint[], o: { columns?: number; title?: string } = {}): VlSpec {
  const shown = points.filter((p) => p.delta > 0);
  const dropped = points.length - shown.length;
  const recipes = [...new Set(points.map((p) => p.recipe))];
  const bits = [...new Set(points.map((p) => p.bits))].sort();
  const values = shown.map((p) => ({ ...p, dn: p.D / p.N, size: sizeLabel(p.N) }));
  const sizes = [...new Set(points.map((p) => p.N))].sort((a, b) => a - b).map(sizeLabel);
  const dn = values.map((v) => v.dn), dl = values.map((v) => v.delta);
  const ext = (v: number[]): [number, number] => (v.length ? [Math.min(...v), Math.max(...v)] : [1, 10]);
  const axis = (title: string, e: [number, number], format: string) => ({
    title,
    format,
    ...(e[1] / e[0] >= 100 ? { values: decades(e[0], e[1]) } : {}),
  });
  const [lo, hi] = ext(dn);
  const x = {
    field: "dn",
    type: "quantitative",
    scale: { type: "log", domain: [lo / 1.25, hi * 1.25], nice: false },
    axis: axis("D / N", [lo, hi], "~s"),
  };
  const y = {
    field: "delta",
    type: "quantitative",
    scale: { type: "log" },
    axis: axis("δ (nats)", ext(dl), "~g"),
  };
  const color = { field: "bits", type: "nominal", sort: bits, title: "bits", scale: { scheme: "set1" } };
  const subtitle = `points: PTQ jobs (shape = model size N); lines: least-squares power law per width` +
    (dropped ? `; ${dropped} job${dropped > 1 ? "s" : ""} with δ ≤ 0 not drawn (log axis)` : "");
  return {
    $schema: VL_SCHEMA,
    title: { text: o.title ?? "Loss added by post-training quantization vs D/N", subtitle },
    config: THEME,
    data: { values },
    facet: { field: "recipe", type: "nominal", title: null, sort: recipes },
    columns: o.columns ?? Math.min(4, Math.max(1, recipes.length)),
    spec: {
      width: 170,
      height: 130,
      layer: [
        {
          transform: [{ regression: "delta", on: "dn", method: "pow", groupby: ["bits"] }],
          mark: { type: "line", strokeWidth: 1.2, opacity: 0.8, clip: true },
          encoding: { x, y, color },
        },
        {
          mark: { type: "point", filled: true, size: 30, opacity: 0.85 },
          encoding: {
            x,
            y,
            color,
            shape: { field: "size", type: "nominal", sort: sizes, title: "N (non-emb.)" },
            tooltip: [
              { field: "run" },
              { field: "bits" },
              { field: "N" },
              { field: "D" },
              { field: "delta", format: ".5f" },
            ],
          },
        },
      ],
    },
    resolve: { scale: { y: "shared", x: "shared" } },
  };
}

/** The chart of an experiment directory (null when it has no ptq.csv or no usable rows). */
export async function ptqChartOf(dir: string): Promise<VlSpec | null> {
  let ptq: string;
  try {
    ptq = await Deno.readTextFile(`${dir}/ptq.csv`);
  } catch {
    return null;
  }
  const runs = await Deno.readTextFile(`${dir}/runs.csv`).catch(() => "");
  const points = ptqPoints(ptq, runs);
  return points.length ? ptqDeltaSpec(points) : null;
}
