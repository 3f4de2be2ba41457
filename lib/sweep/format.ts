/**
 * Small number formatters for the progress display and the dry-run table.
 * @module
 */

/** `1h02m`, `3m05s`, `42s`, `0.8s`; "?" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** `12.3k`, `4.56M`, `7.8e15` style with 3 significant digits. */
export function formatSi(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1e15) return n.toExponential(2);
  for (const [scale, unit] of [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]] as const) {
    if (a >= scale) return `${Number((n / scale).toPrecision(3))}${unit}`;
  }
  return `${Number(n.toPrecision(3))}`;
}

/** Left-aligned text table with a header row; numbers should be pre-formatted. */
export function textTable(header: string[], rows: string[][], rightAlign: boolean[] = []): string {
  // A loop, not Math.max(...rows): a spread of 10^5 rows overflows the stack.
  const widths = header.map((h) => h.length);
  for (const r of rows) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i], (r[i] ?? "").length);
  }
  const line = (cells: string[]) =>
    cells.map((c, i) => (rightAlign[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
