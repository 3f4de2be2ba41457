/**
 * "Did you mean …" for unknown names (schemes, data sources, experiments).
 * @module
 */

/** Levenshtein edit distance between two strings (case-insensitive). */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The candidates closest to `name`, best first: those containing it (or contained in it) and those
 * within an edit distance of about a third of its length; at most `max`.
 */
export function closestNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  const lower = name.toLowerCase();
  const limit = Math.max(2, Math.ceil(name.length / 3));
  const scored: [number, string][] = [];
  for (const c of new Set(candidates)) {
    const cl = c.toLowerCase();
    const d = editDistance(lower, cl);
    const contains = lower.length >= 2 && (cl.includes(lower) || lower.includes(cl));
    if (d <= limit || contains) scored.push([contains ? Math.min(d, limit) - 0.5 : d, c]);
  }
  scored.sort((x, y) => x[0] - y[0] || x[1].localeCompare(y[1]));
  return scored.slice(0, max).map(([, c]) => c);
}

/** Most names a "known: …" list shows. */
const MAX_KNOWN = 12;

/**
 * `unknown scheme "x"; did you mean "a", "b"?`, or the known names when nothing is close (the first
 * dozen and a count; `none` when there are none). Long names are shortened to keep it one line.
 */
export function unknownNameMessage(kind: string, name: string, candidates: string[]): string {
  const shown = name.length > 80 ? `${name.slice(0, 60)}…(${name.length} characters)` : name;
  const close = closestNames(name, candidates);
  const list = (names: string[]) => names.map((c) => `"${c}"`).join(", ");
  const hint = close.length
    ? `did you mean ${list(close)}?`
    : candidates.length === 0
    ? "there are none"
    : candidates.length <= MAX_KNOWN
    ? `known: ${list(candidates)}`
    : `known: ${list(candidates.slice(0, MAX_KNOWN))}, … (${candidates.length} in all)`;
  return `unknown ${kind} "${shown}"; ${hint}`;
}
