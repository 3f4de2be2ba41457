/**
 * `deno run -A cli/formats_showcase.ts`: a table of every element format and preset (grid size, max,
 * smallest normal and subnormal) with the quantization error on 2^20 N(0,1) values, quantized on the
 * GPU (the error sums are taken on the host from the read-back values).
 * @module
 */
import { sharedRuntime } from "../lib/gpu/runtime.ts";
import { ELEMENTS, enumerateGrid } from "../lib/formats/elements.ts";
import { decodeElement } from "../lib/formats/quantize.ts";
import { PRESETS, specFor, withClip } from "../lib/formats/presets.ts";
import type { QuantSpec } from "../lib/formats/scaling.ts";
import { shortestF32 } from "../lib/formats/f32.ts";
import { gauss } from "../lib/formats/testdata.ts";
import { quantizeGpu } from "../kernels/formats/run.ts";

/** One row of the showcase table. */
export interface ShowcaseRow {
  /** Row label. */
  name: string;
  /** Element format of the row. */
  element: string;
  /** "unit scale", or the scaling in words. */
  scaling: string;
  /** Distinct finite values of the element grid (±0 merged). */
  gridSize: number;
  /** Largest finite element value. */
  max: number;
  /** Smallest positive normal element value (NaN for integers). */
  minNormal: number;
  /** Smallest positive subnormal (NaN when the format has none). */
  minSubnormal: number;
  /** Root-mean-square error and relative MSE Σ(q−x)²/Σx² on 2^20 N(0,1) values. */
  rmse: number;
  /** Σ(q−x)²/Σx². */
  relMse: number;
}

function scalingWords(s: QuantSpec): string {
  const sc = s.scale;
  if (sc.granularity === "none") return s.rounding === "stochastic" ? "unit scale, stochastic" : "unit scale";
  const g = sc.granularity === "block" ? `block ${sc.block}` : sc.granularity;
  const rule = sc.tensorScale ? "absmax, f32 tensor scale" : sc.rule;
  const sr = s.rounding === "stochastic" ? ", stochastic" : "";
  return `${g}, ${sc.type} (${rule})${s.hadamard ? `, H${s.hadamard.size}` : ""}${sr}`;
}

/** Computes the showcase rows (GPU quantization of n Gaussians per row; `only` limits the rows by name). */
export async function formatsTable(n = 1 << 20, only?: string[]): Promise<ShowcaseRow[]> {
  const x = new Float32Array(n).map((_, i) => gauss(2026, i));
  let sx = 0;
  for (const v of x) sx += v * v;
  const cases: [string, QuantSpec][] = [
    ...Object.keys(ELEMENTS).map((k) => [k, specFor(k)] as [string, QuantSpec]),
    ...Object.keys(PRESETS).map((k) => [k, specFor(k)] as [string, QuantSpec]),
    ["mxfp4 + H32", { ...specFor("mxfp4"), hadamard: { size: 32 } }],
    ["mxfp4 + H32 + quest", { ...withClip(specFor("mxfp4"), "quest"), hadamard: { size: 32 } }],
    ["mxfp4 + H32 + quest-round", { ...withClip(specFor("mxfp4"), "quest-round"), hadamard: { size: 32 } }],
    ["mxfp4 stochastic", { ...specFor("mxfp4"), rounding: "stochastic", seed: 1 }],
  ];
  const rows: ShowcaseRow[] = [];
  const grids = new Map<string, number>();
  for (const [name, spec] of cases) {
    if (only && !only.includes(name)) continue;
    const e = spec.element;
    if (!grids.has(e.name)) grids.set(e.name, enumerateGrid(e, decodeElement).length);
    const r = await quantizeGpu(x, spec);
    let se = 0;
    for (let i = 0; i < n; i++) se += (r.values[i] - x[i]) ** 2;
    rows.push({
      name,
      element: e.name,
      scaling: scalingWords(spec),
      gridSize: grids.get(e.name)!,
      max: e.max,
      minNormal: e.kind === "float" ? e.minNormal : NaN,
      minSubnormal: e.kind === "float" && e.manBits > 0 ? e.minSubnormal : NaN,
      rmse: Math.sqrt(se / n),
      relMse: se / sx,
    });
  }
  return rows;
}

/** Prints the formats table (markdown) to stdout. */
export async function showFormatsTable(): Promise<void> {
  const gpu = await sharedRuntime();
  const t0 = performance.now();
  const rows = await formatsTable();
  const fmt = (
    v: number,
  ) => (Number.isNaN(v) ? "—" : v >= 1e5 || v < 1e-3 ? v.toExponential(3) : shortestF32(v));
  const g = (v: number) => v.toPrecision(3);
  console.log(`Number formats (quantization error on 2^20 N(0,1) values, quantized on ${gpu.adapter})`);
  console.log("| format | element | scaling | grid | max | min normal | min subnormal | RMSE | rel. MSE |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.element} | ${r.scaling} | ${r.gridSize} | ${fmt(r.max)} | ${fmt(r.minNormal)} | ${
        fmt(r.minSubnormal)
      } | ${g(r.rmse)} | ${g(r.relMse)} |`,
    );
  }
  console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

if (import.meta.main) await showFormatsTable();
