/**
 * Rendering Vega-Lite specs headless: SVG through Vega's "none" renderer, PNG through resvg-wasm with the
 * DejaVu fonts from npm (the wasm build has no system fonts: without them every label silently vanishes),
 * and a self-contained offline HTML page with the Vega, Vega-Lite and Vega-Embed builds inlined.
 * @module
 */
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import * as vega from "vega";
import * as vl from "vega-lite";
import type { VlSpec } from "./specs.ts";

/** Compiles a Vega-Lite spec to a Vega spec (throws on invalid specs). */
export function compile(spec: VlSpec): vega.Spec {
  // Vega mutates data rows (adds a Symbol id): work on a deep copy so callers can reuse their spec.
  return vl.compile(structuredClone(spec) as never).spec as vega.Spec;
}

/** Renders a Vega-Lite spec to an SVG string. */
export async function toSvg(spec: VlSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec)), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

let ready: Promise<Uint8Array[]> | undefined;

/** Initialises resvg-wasm once and loads the DejaVu fonts (regular, bold, oblique). */
function init(): Promise<Uint8Array[]> {
  ready ??= (async () => {
    await initWasm(await Deno.readFile(new URL(import.meta.resolve("@resvg/resvg-wasm/index_bg.wasm"))));
    return await Promise.all(
      ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf"].map((f) =>
        Deno.readFile(new URL(import.meta.resolve(`dejavu-fonts-ttf/ttf/${f}`)))
      ),
    );
  })();
  return ready;
}

/** Rasterises an SVG string to PNG bytes at `scale` (default 2) on white. */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const fonts = await init();
  const r = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: {
      fontBuffers: fonts,
      loadSystemFonts: false,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
    },
  });
  const png = r.render().asPng();
  r.free();
  return png;
}

/** Renders a Vega-Lite spec to PNG bytes. */
export async function toPng(spec: VlSpec, scale = 2): Promise<Uint8Array> {
  return svgToPng(await toSvg(spec), scale);
}

/** The UMD build next to a package's resolved entry point (the packages' exports hide build/). */
async function umd(pkg: string, file: string): Promise<string> {
  return await Deno.readTextFile(new URL(file, import.meta.resolve(pkg)));
}

let builds: Promise<string[]> | undefined;

/** A self-contained HTML page showing the chart with vega-embed; works offline. */
export async function toHtml(spec: VlSpec, title = "fp4lab chart"): Promise<string> {
  builds ??= Promise.all([
    umd("vega", "vega.min.js"),
    umd("vega-lite", "vega-lite.min.js"),
    umd("vega-embed", "vega-embed.min.js"),
  ]);
  const [v, l, e] = await builds;
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  // "<" escaped in the JSON so a label can never close the script element.
  const json = JSON.stringify(spec).replace(/</g, "\\u003c");
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:"DejaVu Sans",sans-serif;margin:16px}</style>
<script>${v}</script>
<script>${l}</script>
<script>${e}</script>
</head><body><div id="vis"></div>
<script>vegaEmbed("#vis", ${json}, { actions: false, renderer: "svg" });</script>
</body></html>
`;
}

async function writeAtomic(path: string, data: string | Uint8Array) {
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  if (typeof data === "string") await Deno.writeTextFile(tmp, data);
  else await Deno.writeFile(tmp, data);
  await Deno.rename(tmp, path);
}

/** Paths written for one chart. */
export interface ChartFiles {
  /** Vega-Lite spec (.vl.json). */
  spec: string;
  /** SVG. */
  svg: string;
  /** PNG (2×, DejaVu fonts). */
  png: string;
  /** Self-contained offline HTML. */
  html: string;
}

/** Writes <name>.vl.json, <name>.svg, <name>.png and <name>.html into dir (atomically). */
export async function writeChart(dir: string, name: string, spec: VlSpec): Promise<ChartFiles> {
  await Deno.mkdir(dir, { recursive: true });
  const svg = await toSvg(spec);
  const files = {
    spec: `${dir}/${name}.vl.json`,
    svg: `${dir}/${name}.svg`,
    png: `${dir}/${name}.png`,
    html: `${dir}/${name}.html`,
  };
  await writeAtomic(files.spec, JSON.stringify(spec, null, 1) + "\n");
  await writeAtomic(files.svg, svg);
  await writeAtomic(files.png, await svgToPng(svg));
  const title = typeof spec.title === "string" ? spec.title : (spec.title as { text?: string })?.text ?? name;
  await writeAtomic(files.html, await toHtml(spec, title));
  return files;
}
