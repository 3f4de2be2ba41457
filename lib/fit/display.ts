/**
 * Jupyter self-display without depending on Deno.jupyter: Deno's kernel renders any object whose
 * `Symbol.for("Jupyter.display")` method returns a MIME bundle. Tables come as HTML, Markdown and text.
 * @module
 */

/** The symbol Deno's Jupyter kernel looks for (`Deno.jupyter.$display`). */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** A MIME bundle: MIME type → content. */
export type MimeBundle = Record<string, unknown>;

/** Adds a non-enumerable display method (JSON and spreads are unaffected) and returns the object. */
export function withDisplay<T extends object>(obj: T, bundle: (self: T) => MimeBundle): T {
  Object.defineProperty(obj, JUPYTER_DISPLAY, {
    value: () => bundle(obj),
    enumerable: false,
    configurable: true,
  });
  return obj;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** An HTML table (escaped). */
export function htmlTable(header: string[], rows: string[][], caption?: string): string {
  const cap = caption ? `<caption style="text-align:left">${esc(caption)}</caption>` : "";
  const th = header.map((h) => `<th>${esc(h)}</th>`).join("");
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("");
  return `<table>${cap}<thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

/** A GitHub-flavoured Markdown table. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (r: string[]) => `| ${r.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** A table bundle: text/html, text/markdown and text/plain. */
export function tableBundle(header: string[], rows: string[][], plain: string, caption?: string): MimeBundle {
  return {
    "text/html": htmlTable(header, rows, caption),
    "text/markdown": (caption ? `**${caption}**\n\n` : "") + markdownTable(header, rows),
    "text/plain": plain,
  };
}
