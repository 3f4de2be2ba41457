/**
 * Charts for scaling-law studies: Vega-Lite specs (loss vs tokens, loss vs compute with the Pareto
 * frontier, effN/effD with confidence bars, optimal-precision regions, residuals), headless rendering to
 * SVG, PNG (resvg-wasm + DejaVu fonts) and offline HTML, and Jupyter display.
 *
 * ```ts
 * const specs = chartSpecs(fit, frontier(fit, bopsModel()));
 * await writeCharts("results/quartet-tiny/charts", specs);
 * await Chart.of(specs.loss_vs_compute); // the value of a notebook cell renders inline
 * ```
 * @module
 */
export {
  decades,
  efficiencySpec,
  lossVsComputeSpec,
  lossVsTokensSpec,
  REFERENCE_MODELS,
  regionMapSpec,
  residualSpec,
  sizeLabel,
  THEME,
  VL_SCHEMA,
  withTitlePrefix,
} from "./specs.ts";
export type { VlSpec } from "./specs.ts";
export { isoflopSpec } from "./isoflop.ts";
export { ptqChartOf, ptqDeltaSpec, ptqPoints } from "./ptq.ts";
export type { PtqPoint } from "./ptq.ts";
export { compile, svgToPng, toHtml, toPng, toSvg, writeChart } from "./render.ts";
export type { ChartFiles } from "./render.ts";
export { base64, Chart, show, VEGALITE_MIME } from "./jupyter.ts";
export { chartSpecs, plotExperiment, writeCharts } from "./suite.ts";
export type { PlotOptions, PlotResult } from "./suite.ts";
