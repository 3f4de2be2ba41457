/**
 * Charts in Jupyter (Deno kernel): a Chart holds its spec and a pre-rendered PNG, and displays itself as a
 * Vega-Lite MIME bundle with the PNG as fallback. No text/html in chart bundles: JupyterLab would rank it
 * above the Vega renderer, and nbconvert's HTML export strips SVG (the PNG survives).
 * @module
 */
import { JUPYTER_DISPLAY, type MimeBundle } from "../fit/display.ts";
import type { VlSpec } from "./specs.ts";
import { toPng } from "./render.ts";

/** The Vega-Lite MIME type JupyterLab's built-in renderer handles. */
export const VEGALITE_MIME = "application/vnd.vegalite.v5+json";

/** Base64 of bytes (chunked: String.fromCharCode has an argument limit). */
export function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** A rendered chart that displays itself in Jupyter. Build with `await Chart.of(spec)`. */
export class Chart {
  /** Use Chart.of, which renders the PNG. */
  constructor(readonly name: string, readonly spec: VlSpec, readonly png: Uint8Array) {}

  /** Renders the PNG fallback (2×) and wraps the spec. */
  static async of(spec: VlSpec, name = "chart"): Promise<Chart> {
    return new Chart(name, spec, await toPng(spec));
  }

  /** Title of the chart, for text/plain. */
  get title(): string {
    const t = this.spec.title as string | { text?: string } | undefined;
    return typeof t === "string" ? t : t?.text ?? this.name;
  }

  /** The MIME bundle: Vega-Lite spec, PNG fallback, a text line. */
  bundle(): MimeBundle {
    // The spec only uses Vega-Lite 5 features; label it v5 for the v5 renderer that frontends ship.
    const spec = { ...this.spec, $schema: "https://vega.github.io/schema/vega-lite/v5.json" };
    return {
      [VEGALITE_MIME]: spec,
      "image/png": base64(this.png),
      "text/plain": `[chart] ${this.title}`,
    };
  }

  /** Deno's Jupyter kernel calls this when a Chart is the value of a cell. */
  [JUPYTER_DISPLAY](): MimeBundle {
    return this.bundle();
  }
}

/**
 * Shows a Chart, a bundle, or anything with a display method in the running notebook; no-op outside
 * Jupyter. Then waits `flushMs` (default 300): Deno's kernel forwards display messages through a queue
 * and can report the cell idle before the queue drains, and nbclient then drops the late output
 * (seen with Deno 2.9.6 under load). Ending a cell with `await show(x)` instead of the bare value `x`
 * (whose execute_result can be dropped the same way) makes headless runs keep every output.
 */
export async function show(
  x: Chart | MimeBundle | { [JUPYTER_DISPLAY](): MimeBundle },
  flushMs = 300,
): Promise<void> {
  const j =
    (Deno as unknown as { jupyter?: { display(b: MimeBundle, o: { raw: boolean }): Promise<void> } }).jupyter;
  if (!j) return;
  const b = JUPYTER_DISPLAY in x
    ? (x as { [JUPYTER_DISPLAY](): MimeBundle })[JUPYTER_DISPLAY]()
    : x as MimeBundle;
  await j.display(b, { raw: true });
  if (flushMs > 0) await new Promise((r) => setTimeout(r, flushMs));
}
