/**
 * The Approach-2 chart: left, loss against N per compute budget (observed runs and each budget's fitted
 * parabola in ln N, its minimum marked); right, the optima N* and D* against C with the fitted power laws.
 * @module
 */
import type { IsoflopFit } from "../fit/isoflop.ts";
import { fmt } from "../fit/report.ts";
import { THEME, VL_SCHEMA, type VlSpec } from "./specs.ts";

const logQ = (field: string, title: string) => ({
  field,
  type: "quantitative",
  scale: { type: "log" },
  axis: { format: "~s", title },
});

/** The isoFLOP profiles and optima of an analysis (data inlined). */
export function isoflopSpec(fit: IsoflopFit, o: { width?: number; height?: number } = {}): VlSpec {
  const width = o.width ?? 380, height = o.height ?? 300;
  const budget = (C: number) => `C = ${fmt(C)}`;
  const order = fit.optima.map((p) => budget(p.C));
  const color = { field: "budget", type: "nominal", sort: order, title: "compute budget" };
  const points = fit.runs.map((r) => ({ N: r.N, loss: r.L, budget: budget(r.C ?? 6 * r.N * r.D) }));
  const curves = fit.optima.flatMap((p) => {
    const [lo, hi] = [Math.log(p.nRange[0]), Math.log(p.nRange[1])];
    return Array.from({ length: 41 }, (_, k) => {
      const x = lo + ((hi - lo) * k) / 40;
      return { N: Math.exp(x), loss: p.coef[0] + p.coef[1] * x + p.coef[2] * x * x, budget: budget(p.C) };
    });
  });
  const optima = fit.optima.map((p) => ({ N: p.nStar, loss: p.loss, budget: budget(p.C) }));
  const { a, b, kN, kD } = fit.params;
  const cs = fit.optima.map((p) => p.C);
  const cLo = Math.min(...cs), cHi = Math.max(...cs);
  const law = Array.from({ length: 21 }, (_, k) => cLo * (cHi / cLo) ** (k / 20)).flatMap((C) => [
    { C, value: kN * C ** a, what: "N*" },
    { C, value: kD * C ** b, what: "D*" },
  ]);
  const observed = fit.optima.flatMap((p) => [
    { C: p.C, value: p.nStar, what: "N*" },
    { C: p.C, value: p.dStar, what: "D*" },
  ]);
  const ci = fit.ci?.params;
  const iv = (k: string) => (ci?.[k] ? ` [${fmt(ci[k][0])}, ${fmt(ci[k][1])}]` : "");
  return {
    $schema: VL_SCHEMA,
    title: {
      text: "isoFLOP profiles (Approach 2)",
      subtitle: `N* ∝ C^${fmt(a)}${iv("a")}, D* ∝ C^${fmt(b)}${iv("b")}` +
        (fit.warnings.length ? ` — ${fit.warnings.length} warning(s)` : ""),
    },
    config: THEME,
    hconcat: [
      {
        width,
        height,
        layer: [
          {
            data: { values: points },
            mark: { type: "point", filled: true, size: 40 },
            encoding: {
              x: logQ("N", "parameters N"),
              y: { field: "loss", type: "quantitative", scale: { zero: false }, axis: { title: "loss" } },
              color,
            },
          },
          {
            data: { values: curves },
            mark: { type: "line", strokeWidth: 1.5 },
            encoding: {
              x: { field: "N", type: "quantitative", scale: { type: "log" } },
              y: { field: "loss", type: "quantitative" },
              color,
              detail: { field: "budget" },
            },
          },
          {
            data: { values: optima },
            mark: { type: "point", shape: "diamond", filled: true, size: 120, color: "black" },
            encoding: {
              x: { field: "N", type: "quantitative", scale: { type: "log" } },
              y: { field: "loss", type: "quantitative" },
            },
          },
        ],
      },
      {
        width,
        height,
        layer: [
          {
            data: { values: law },
            mark: { type: "line", strokeDash: [4, 3] },
            encoding: {
              x: logQ("C", "compute C (FLOPs)"),
              y: logQ("value", "N*, D*"),
              color: { field: "what", type: "nominal", title: "optimum" },
            },
          },
          {
            data: { values: observed },
            mark: { type: "point", filled: true, size: 60 },
            encoding: {
              x: { field: "C", type: "quantitative", scale: { type: "log" } },
              y: { field: "value", type: "quantitative", scale: { type: "log" } },
              color: { field: "what", type: "nominal" },
            },
          },
        ],
      },
    ],
    resolve: { scale: { color: "independent" } },
  };
}
