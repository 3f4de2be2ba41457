/**
 * Vega-Lite specs for the scaling-law charts. Each builder takes fit/frontier objects and returns a
 * self-contained spec (data inlined), so a spec file alone reproduces its chart. Log axes use SI tick
 * labels (`~s`): Vega's label-overlap removal hides long "10,000,000"-style labels.
 * @module
 */
import type { FitResult } from "../fit/fit.ts";
import { predictLoss } from "../fit/fit.ts";
import type { Frontier } from "../fit/frontier.ts";
import { logspace } from "../fit/frontier.ts";
import { fmt } from "../fit/report.ts";
import { seedSpreads } from "../fit/replicates.ts";

/** A Vega-Lite spec (JSON object). */
export type VlSpec = Record<string, unknown>;

/** Schema of the vega-lite package in deno.json. */
export const VL_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** Shared look: DejaVu Sans everywhere (what the PNG renderer loads), light grid, white background. */
export const THEME = {
  font: "DejaVu Sans",
  background: "white",
  view: { stroke: "#cccccc" },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#eeeeee", titleFontWeight: "normal" },
  legend: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: "normal" },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, anchor: "start", subtitleFontSize: 11, subtitleColor: "#555555" },
};

/** Powers of ten covering [lo, hi], for decade-only ticks and grid lines on log axes. */
export function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

/**
 * A log-scaled quantitative channel with SI labels. `extent` (data range) switches to decade-only ticks
 * when it spans at least two decades; `billions` writes G as B (parameters and tokens, not FLOPs).
 */
const logAxis = (
  field: string,
  title: string,
  o: { scale?: Record<string, unknown>; extent?: [number, number]; billions?: boolean } = {},
) => {
  const axis: Record<string, unknown> = { format: "~s", title };
  if (o.extent && o.extent[1] / o.extent[0] >= 100) axis.values = decades(o.extent[0], o.extent[1]);
  if (o.billions) axis.labelExpr = "replace(datum.label, 'G', 'B')";
  return { field, type: "quantitative", scale: { type: "log", ...o.scale }, axis };
};

const extentOf = (v: number[]): [number, number] => [Math.min(...v), Math.max(...v)];

const lossAxis = (title = "validation loss") => ({
  field: "loss",
  type: "quantitative",
  scale: { zero: false },
  axis: { title, format: ".2~f" },
});

/** Prefixes a spec's title (e.g. "SYNTHETIC DATA: "), keeping its subtitle. */
export function withTitlePrefix(spec: VlSpec, prefix: string): VlSpec {
  const t = spec.title as string | { text: string; subtitle?: string } | undefined;
  const title = typeof t === "string" ? prefix + t : t ? { ...t, text: prefix + t.text } : prefix.trim();
  return { ...spec, title };
}

/** SI-style size label ("1.8M") for the N legend. */
export function sizeLabel(n: number): string {
  const units: [number, string][] = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "k"]];
  for (const [v, u] of units) if (n >= v) return `${Number((n / v).toPrecision(3))}${u}`;
  return String(n);
}

function base(title: string, subtitle?: string): VlSpec {
  return { $schema: VL_SCHEMA, title: subtitle ? { text: title, subtitle } : title, config: THEME };
}

/** Loss vs tokens per model size, one panel per scheme, observed points and fitted law curves. */
export function lossVsTokensSpec(
  fit: FitResult,
  o: { columns?: number; width?: number; height?: number } = {},
): VlSpec {
  const rows: Record<string, unknown>[] = [];
  const schemes = [...new Set(fit.predictions.map((p) => p.scheme))];
  const sizes = [...new Set(fit.predictions.map((p) => p.N))].sort((a, b) => a - b);
  for (const p of fit.predictions) {
    rows.push({ kind: "observed", scheme: p.scheme, size: sizeLabel(p.N), tokens: p.D, loss: p.observed });
  }
  // Seed replicates (lib/fit/replicates.ts): their spread (min–max) as an error bar at the cell.
  const seen = new Set<string>();
  const spreads = seedSpreads(fit.predictions.filter((p) => !seen.has(p.id) && !!seen.add(p.id)));
  for (const c of spreads) {
    rows.push({
      kind: "spread",
      scheme: c.scheme,
      size: sizeLabel(c.N),
      tokens: c.D,
      lo: c.min,
      hi: c.max,
      n: c.n,
    });
  }
  for (const s of schemes) {
    const ps = fit.predictions.filter((p) => p.scheme === s);
    const q = ps[0], bits = fit.schemes.find((x) => x.name === s)?.bits;
    for (const N of new Set(ps.map((p) => p.N))) {
      const Ds = ps.filter((p) => p.N === N).map((p) => p.D);
      for (const D of logspace(Math.min(...Ds) / 1.5, Math.max(...Ds) * 1.5, 30)) {
        const loss = predictLoss(fit, N, D, { fwd: q.fwd, bwd: q.bwd, bits });
        if (Number.isFinite(loss)) rows.push({ kind: "fit", scheme: s, size: sizeLabel(N), tokens: D, loss });
      }
    }
  }
  const allD = extentOf(rows.map((r) => r.tokens as number));
  const x = logAxis("tokens", "training tokens D", { extent: allD, billions: true });
  const color = {
    field: "size",
    type: "ordinal",
    sort: sizes.map(sizeLabel),
    scale: { scheme: "viridis" },
    title: "N (non-emb.)",
  };
  return {
    ...base(
      `Loss vs training tokens (${fit.form} law)`,
      `points: runs; lines: fitted law${spreads.length ? "; bars: spread across seeds (min–max)" : ""}`,
    ),
    data: { values: rows },
    facet: { field: "scheme", type: "nominal", title: null, sort: schemes },
    columns: o.columns ?? Math.min(3, schemes.length),
    spec: {
      width: o.width ?? 230,
      height: o.height ?? 180,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'fit'" }],
          mark: { type: "line", strokeWidth: 1.5, clip: true },
          encoding: { x, y: lossAxis(), color, detail: { field: "size" } },
        },
        {
          transform: [{ filter: "datum.kind === 'observed'" }],
          mark: { type: "point", filled: true, size: 36, opacity: 0.9 },
          encoding: { x, y: lossAxis(), color },
        },
        ...(spreads.length
          ? [{
            transform: [{ filter: "datum.kind === 'spread'" }],
            mark: { type: "rule", strokeWidth: 1.5 },
            encoding: { x, y: { ...lossAxis(), field: "lo" }, y2: { field: "hi" }, color },
          }]
          : []),
      ],
    },
  };
}

/** Loss vs baseline-equivalent compute: runs, the law's compute-optimal curve per scheme, Pareto frontier. */
export function lossVsComputeSpec(f: Frontier, o: { width?: number; height?: number } = {}): VlSpec {
  const rows = [
    ...f.curves.map((c) => ({ kind: "law", scheme: c.scheme, compute: c.compute, loss: c.loss })),
    ...f.observed.map((p) => ({ kind: "run", scheme: p.scheme, compute: p.compute, loss: p.loss, id: p.id })),
    ...f.pareto.map((p) => ({ kind: "pareto", scheme: "Pareto frontier", compute: p.compute, loss: p.loss })),
  ];
  const color = {
    field: "scheme",
    type: "nominal",
    title: "scheme (fwd:bwd)",
    scale: { scheme: "tableau10" },
  };
  const x = logAxis("compute", "training compute C (baseline-equivalent FLOPs)", {
    extent: extentOf(rows.map((r) => r.compute)),
  });
  return {
    ...base(
      `Loss vs compute (${f.form} law, ${f.cost} cost)`,
      "points: runs; lines: compute-optimal law per scheme; black: Pareto frontier of runs",
    ),
    width: o.width ?? 460,
    height: o.height ?? 300,
    data: { values: rows },
    layer: [
      {
        transform: [{ filter: "datum.kind === 'law'" }],
        mark: { type: "line", strokeWidth: 1.5, clip: true },
        encoding: { x, y: lossAxis(), color },
      },
      {
        transform: [{ filter: "datum.kind === 'run'" }],
        mark: { type: "point", filled: true, size: 30, opacity: 0.75 },
        encoding: {
          x,
          y: lossAxis(),
          color,
          shape: { field: "scheme", type: "nominal", title: color.title },
        },
      },
      {
        transform: [{ filter: "datum.kind === 'pareto'" }],
        mark: { type: "line", interpolate: "step-after", color: "black", strokeWidth: 1.5 },
        encoding: { x, y: lossAxis() },
      },
    ],
  };
}

/** effN and effD per label with bootstrap confidence bars (when the fit has them) and the baseline at 1. */
export function efficiencySpec(fit: FitResult, o: { width?: number; height?: number } = {}): VlSpec {
  const rows: Record<string, unknown>[] = [];
  const add = (kind: string, m: Record<string, number>, ci?: Record<string, [number, number]>) => {
    for (const [label, value] of Object.entries(m)) {
      rows.push({ kind, label, value, lo: ci?.[label]?.[0] ?? value, hi: ci?.[label]?.[1] ?? value });
    }
  };
  add("effN (forward)", fit.effN, fit.ci?.effN);
  add("effD (backward)", fit.effD, fit.ci?.effD);
  const level = fit.ci
    ? `${Math.round(fit.ci.level * 100)}% bootstrap intervals (${fit.ci.samples} resamples)`
    : "no bootstrap";
  const x = { field: "label", type: "nominal", title: null, axis: { labelAngle: -30 } };
  // Poorly determined efficiencies can have intervals spanning orders of magnitude; keep the axis on the
  // point estimates and clip the bars (saying so), rather than squash every point onto zero.
  const values = rows.map((r) => r.value as number).filter(Number.isFinite);
  const top = Math.max(1.1, 1.3 * Math.max(0, ...values));
  const clipped = rows.some((r) => (r.hi as number) > top || (r.lo as number) < 0);
  // Clamp the drawn bar ends into the domain: a bar whose end lies at 1e41 is otherwise dropped by the
  // renderer. The tooltip keeps the true interval.
  for (const r of rows) {
    r.loDrawn = Math.min(Math.max(r.lo as number, 0), top);
    r.hiDrawn = Math.min(Math.max(r.hi as number, 0), top);
  }
  const note = `bars: ${level}${
    clipped ? `, clipped to [0, ${fmt(top)}]` : ""
  }; dashed: baseline ${fit.baseline} = 1`;
  const y = (field: string) => ({
    field,
    type: "quantitative",
    title: "efficiency",
    scale: { domain: [0, top], nice: false },
  });
  return {
    ...base(`Efficiencies (${fit.form} law)`, note),
    data: { values: rows },
    facet: {
      column: { field: "kind", type: "nominal", title: null, sort: ["effN (forward)", "effD (backward)"] },
    },
    resolve: { scale: { x: "independent" } },
    spec: {
      width: o.width ?? 200,
      height: o.height ?? 220,
      layer: [
        { mark: { type: "rule", strokeDash: [4, 4], color: "#888888" }, encoding: { y: { datum: 1 } } },
        {
          mark: { type: "rule", strokeWidth: 2, color: "#4c78a8", clip: true },
          encoding: { x, y: y("loDrawn"), y2: { field: "hiDrawn" } },
        },
        {
          mark: { type: "point", filled: true, size: 70, color: "#e45756", clip: true },
          encoding: {
            x,
            y: y("value"),
            tooltip: [{ field: "label" }, { field: "value", format: ".3f" }, { field: "lo", format: ".3f" }, {
              field: "hi",
              format: ".3f",
            }],
          },
        },
      ],
    },
  };
}

/** Public reference models for the region map (parameters, training tokens), from quartet.md §3.1. */
export const REFERENCE_MODELS: { name: string; N: number; D: number; labelLeft?: boolean }[] = [
  { name: "Llama-3 70B", N: 70e9, D: 15e12 },
  { name: "Qwen-2.5 72B", N: 72e9, D: 18e12 },
  { name: "Gemma-3 27B", N: 27e9, D: 14e12 },
  { name: "Gemma-3 12B", N: 12e9, D: 12e12 },
  { name: "Gemma-3 4B", N: 4e9, D: 4e12, labelLeft: true }, // its label would run into 12B's
  { name: "Gemma-3 1B", N: 1e9, D: 2e12 },
];

/** Quartet's optimal-precision regions over (N_max, D_max/N_max), with reference models in range. */
export function regionMapSpec(
  f: Frontier,
  o: {
    width?: number;
    height?: number;
    references?: { name: string; N: number; D: number; labelLeft?: boolean }[];
    /** Replaces the default title. */
    title?: string;
  } = {},
): VlSpec {
  const cells = f.regions ?? [];
  const xs = [...new Set(cells.map((c) => c.nMax))].sort((a, b) => a - b);
  const ys = [...new Set(cells.map((c) => c.ratio))].sort((a, b) => a - b);
  // Cell edges at geometric midpoints, so the rects tile the log-log plane.
  // Each rect is widened by 2% of a cell on both sides so anti-aliased edges do not show as seams;
  // the axis domain stops at the unpadded outer edges.
  const half = (v: number[]) => (v.length > 1 ? Math.sqrt(v[1] / v[0]) : 1.1);
  const hx = half(xs), hy = half(ys), px = hx ** 0.04, py = hy ** 0.04;
  const rows = cells.map((c) => ({
    best: c.best,
    x0: c.nMax / hx / px,
    x1: c.nMax * hx * px,
    y0: c.ratio / hy / py,
    y1: c.ratio * hy * py,
    loss: c.loss,
  }));
  const [xlo, xhi] = [xs[0] ?? 1, xs[xs.length - 1] ?? 1], [ylo, yhi] = [ys[0] ?? 1, ys[ys.length - 1] ?? 1];
  const refs = (o.references ?? REFERENCE_MODELS)
    .map((r) => ({ name: r.name, nMax: r.N, ratio: r.D / r.N, left: r.labelLeft ?? false }))
    .filter((r) => r.nMax >= xlo && r.nMax <= xhi && r.ratio >= ylo && r.ratio <= yhi);
  const domainX = [xlo / hx, xhi * hx];
  const domainY = [ylo / hy, yhi * hy];
  const x = logAxis("x0", "inference budget N_max (parameters)", {
    scale: { domain: domainX, nice: false },
    billions: true,
  });
  const y = logAxis("y0", "training budget D_max / N_max", { scale: { domain: domainY, nice: false } });
  const layers: Record<string, unknown>[] = [
    {
      data: { values: rows },
      mark: { type: "rect", strokeWidth: 0, clip: true },
      encoding: {
        x,
        x2: { field: "x1" },
        y,
        y2: { field: "y1" },
        color: {
          field: "best",
          type: "nominal",
          title: "optimal fwd:bwd",
          // Every candidate in the legend (also those that win nowhere), in a fixed colour order.
          scale: f.regionCandidates ? { domain: f.regionCandidates, scheme: "set2" } : { scheme: "set2" },
        },
      },
    },
  ];
  if (refs.length) {
    const rx = { field: "nMax", type: "quantitative", scale: { type: "log", domain: domainX, nice: false } };
    const ry = { field: "ratio", type: "quantitative", scale: { type: "log", domain: domainY, nice: false } };
    layers.push(
      {
        data: { values: refs },
        mark: { type: "point", filled: true, color: "black", size: 25 },
        encoding: { x: rx, y: ry },
      },
      {
        data: { values: refs.filter((r) => !r.left) },
        mark: { type: "text", align: "left", dx: 5, dy: -5, fontSize: 10 },
        encoding: { x: rx, y: ry, text: { field: "name" } },
      },
      {
        data: { values: refs.filter((r) => r.left) },
        mark: { type: "text", align: "right", dx: -5, dy: -5, fontSize: 10 },
        encoding: { x: rx, y: ry, text: { field: "name" } },
      },
    );
  }
  return {
    ...base(
      o.title ?? `Optimal precision (${f.form} law, ${f.cost} cost)`,
      "lowest predicted loss under both budgets",
    ),
    width: o.width ?? 440,
    height: o.height ?? 300,
    layer: layers,
  };
}

/** Residuals ln L_obs − ln L_fit against the fitted loss, per scheme, with the Huber δ band. */
export function residualSpec(fit: FitResult, o: { width?: number; height?: number } = {}): VlSpec {
  const rows = fit.predictions.map((p) => ({
    scheme: p.scheme,
    group: p.group,
    predicted: p.predicted,
    residual: p.residual,
    N: sizeLabel(p.N),
    D: fmt(p.D),
    id: p.id,
  }));
  const band = [{ lo: -fit.delta, hi: fit.delta }];
  return {
    ...base(`Residuals (${fit.form} law)`, `ln L_observed − ln L_fitted; grey band: Huber δ = ${fit.delta}`),
    width: o.width ?? 460,
    height: o.height ?? 240,
    layer: [
      {
        data: { values: band },
        mark: { type: "rect", color: "#dddddd", opacity: 0.6 },
        encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
      },
      { data: { values: [{}] }, mark: { type: "rule", color: "#888888" }, encoding: { y: { datum: 0 } } },
      {
        data: { values: rows },
        mark: { type: "point", filled: true, size: 36, opacity: 0.85 },
        encoding: {
          x: {
            field: "predicted",
            type: "quantitative",
            scale: { zero: false },
            axis: { title: "fitted loss", format: ".2~f" },
          },
          y: {
            field: "residual",
            type: "quantitative",
            axis: { title: "ln L_obs − ln L_fit (≈ relative)", format: ".1~%" },
          },
          color: {
            field: "scheme",
            type: "nominal",
            title: "scheme (fwd:bwd)",
            scale: { scheme: "tableau10" },
          },
          tooltip: [{ field: "id" }, { field: "scheme" }, { field: "N" }, { field: "D" }, {
            field: "residual",
            format: ".4f",
          }],
        },
      },
    ],
  };
}
