/**
 * Approach 2 (Hoffmann et al. 2022, §3.2): isoFLOP profiles. Runs are grouped by compute budget C; per
 * budget a parabola in ln N is fitted to the losses by least squares, whose minimum gives N*(C) (with a
 * delta-method standard error when the budget has more than three sizes), D* = C/(6N*), and the loss there.
 * Then N* = kN·C^a and D* = kD·C^b by least squares on logs; bootstrap intervals resample runs within each
 * budget. For L = E + A/N^α + B/D^β, a → β/(α+β) and b → α/(α+β).
 * @module
 */
import { FitInputError } from "./errors.ts";
import { makeRng } from "./random.ts";
import { fmt, plainTable } from "./report.ts";
import type { Interval, Run } from "./types.ts";
import { percentile } from "./bootstrap.ts";

/** One budget's parabola minimum. */
export interface IsoflopOptimum {
  /** Compute budget (FLOPs). */
  C: number;
  /** Loss-minimising parameter count. */
  nStar: number;
  /** Tokens at the minimum: C/(6N*). */
  dStar: number;
  /** Parabola value at the minimum. */
  loss: number;
  /** Runs in the budget. */
  points: number;
  /** Standard error of ln N* (delta method; absent with three sizes, where the parabola is exact). */
  lnNStarSE?: number;
  /** Parabola coefficients in ln N: L = c0 + c1·x + c2·x² (for charts). */
  coef: [number, number, number];
  /** Smallest and largest N of the budget. */
  nRange: [number, number];
}

/** An Approach-2 analysis. */
export interface IsoflopFit {
  /** Always "isoflop". */
  form: "isoflop";
  /** a, b (exponents of N* and D* in C) and kN, kD (their prefactors). */
  params: { a: number; b: number; kN: number; kD: number };
  /** Per budget with a minimum, by increasing C. */
  optima: IsoflopOptimum[];
  /** Budgets without a usable parabola, and why. */
  skipped: { C: number; reason: string }[];
  /** Bootstrap percentile intervals of the params. */
  ci?: { level: number; samples: number; params: Record<string, Interval> };
  /** Runs used. */
  points: number;
  /** The runs (for charts). */
  runs: Run[];
  /** How the input was read. */
  notes: string[];
  /** Reasons not to trust it. */
  warnings: string[];
}

/** Settings of an isoFLOP analysis. */
export interface IsoflopOptions {
  /** Bootstrap resamples (default 0: none). */
  bootstrap?: number;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Two-sided level (default 0.95). */
  level?: number;
  /** Bootstrap interval width (high − low) over |estimate| that is flagged (default 0.5). */
  ciWidth?: number;
}

/** The compute of a run: its C column, else 6·N·D. */
const computeOf = (r: Run) => r.C ?? 6 * r.N * r.D;

/**
 * Least-squares parabola in x = ln N through (x, L) with multiplicities w; its minimum or why there is none.
 */
export function parabolaMinimum(
  x: number[],
  y: number[],
  w: number[] = x.map(() => 1),
): { xStar: number; yStar: number; se?: number; coef: [number, number, number] } | string {
  const n = w.reduce((a, b) => a + b, 0);
  const distinct = new Set(x.filter((_, i) => w[i] > 0)).size;
  if (distinct < 3) return `${distinct} distinct sizes (a parabola needs 3)`;
  const mx = x.reduce((a, v, i) => a + w[i] * v, 0) / n;
  // Normal equations in centred u = x − mx: [Σw, Σwu, Σwu²; …] c = [Σwy, Σwuy, Σwu²y].
  const S = [0, 0, 0, 0, 0], T = [0, 0, 0];
  x.forEach((xi, i) => {
    const u = xi - mx, wi = w[i];
    let p = wi;
    for (let k = 0; k < 5; k++) S[k] += p, p *= u;
    T[0] += wi * y[i], T[1] += wi * u * y[i], T[2] += wi * u * u * y[i];
  });
  const M = [[S[0], S[1], S[2]], [S[1], S[2], S[3]], [S[2], S[3], S[4]]];
  const inv = invert3(M);
  if (!inv) return "singular design";
  const c = inv.map((row) => row[0] * T[0] + row[1] * T[1] + row[2] * T[2]) as [number, number, number];
  if (!(c[2] > 0)) return "the losses do not curve upwards in ln N (no minimum)";
  const uStar = -c[1] / (2 * c[2]);
  const yStar = c[0] + c[1] * uStar + c[2] * uStar * uStar;
  // Back to x: L = c0 + c1 (x − mx) + c2 (x − mx)².
  const coef: [number, number, number] = [
    c[0] - c[1] * mx + c[2] * mx * mx,
    c[1] - 2 * c[2] * mx,
    c[2],
  ];
  let se: number | undefined;
  if (n > 3) {
    let rss = 0;
    x.forEach((xi, i) => {
      const u = xi - mx, r = y[i] - (c[0] + c[1] * u + c[2] * u * u);
      rss += w[i] * r * r;
    });
    const s2 = rss / (n - 3);
    const J = [0, -1 / (2 * c[2]), c[1] / (2 * c[2] * c[2])];
    let v = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) v += J[i] * s2 * inv[i][j] * J[j];
    se = Math.sqrt(Math.max(v, 0));
  }
  return { xStar: uStar + mx, yStar, se, coef };
}

function invert3(m: number[][]): number[][] | null {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!(Math.abs(det) > 0) || !Number.isFinite(det)) return null;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

/** Least-squares line y = k + s·x: [slope, intercept]. */
function line(x: number[], y: number[]): [number, number] {
  const n = x.length, mx = x.reduce((a, b) => a + b, 0) / n, my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) ** 2;
  const s = sxy / sxx;
  return [s, my - s * mx];
}

/** Runs grouped by budget (C to 3 significant digits), by increasing C. */
function budgets(runs: Run[]): { C: number; ids: number[] }[] {
  const m = new Map<string, { C: number; ids: number[] }>();
  runs.forEach((r, i) => {
    const C = computeOf(r), key = C.toPrecision(3);
    const g = m.get(key) ?? { C, ids: [] };
    g.ids.push(i);
    m.set(key, g);
  });
  return [...m.values()].sort((a, b) => a.C - b.C);
}

/** Optima and power laws for one set of multiplicities (all 1, or a bootstrap resample). */
function analyse(runs: Run[], groups: { C: number; ids: number[] }[], w?: Float64Array) {
  const optima: IsoflopOptimum[] = [], skipped: { C: number; reason: string }[] = [];
  for (const g of groups) {
    const x = g.ids.map((i) => Math.log(runs[i].N)), y = g.ids.map((i) => runs[i].L);
    const r = parabolaMinimum(x, y, w ? g.ids.map((i) => w[i]) : undefined);
    if (typeof r === "string") {
      skipped.push({ C: g.C, reason: r });
      continue;
    }
    const nStar = Math.exp(r.xStar), Ns = g.ids.map((i) => runs[i].N);
    optima.push({
      C: g.C,
      nStar,
      dStar: g.C / (6 * nStar),
      loss: r.yStar,
      points: g.ids.length,
      ...(r.se !== undefined ? { lnNStarSE: r.se } : {}),
      coef: r.coef,
      nRange: [Math.min(...Ns), Math.max(...Ns)],
    });
  }
  if (optima.length < 2) return { optima, skipped, params: null };
  const lc = optima.map((o) => Math.log(o.C));
  const [a, lnKN] = line(lc, optima.map((o) => Math.log(o.nStar)));
  const [b, lnKD] = line(lc, optima.map((o) => Math.log(o.dStar)));
  return { optima, skipped, params: { a, b, kN: Math.exp(lnKN), kD: Math.exp(lnKD) } };
}

/** Runs the analysis; throws FitInputError when fewer than two budgets have a parabola minimum. */
export function fitIsoflop(runs: Run[], o: IsoflopOptions = {}): IsoflopFit {
  const groups = budgets(runs);
  const r = analyse(runs, groups);
  if (!r.params) {
    const why = r.skipped.slice(0, 3).map((s) => `C=${fmt(s.C)}: ${s.reason}`).join("; ") +
      (r.skipped.length > 3 ? `; … ${r.skipped.length - 3} more` : "");
    throw new FitInputError(
      `isoflop needs at least 2 compute budgets with a parabola minimum, found ${r.optima.length} of ` +
        `${groups.length}${why ? ` (${why})` : ""}`,
    );
  }
  const fit: IsoflopFit = {
    form: "isoflop",
    params: r.params,
    optima: r.optima,
    skipped: r.skipped,
    points: runs.length,
    runs,
    notes: [],
    warnings: [],
  };
  if ((o.bootstrap ?? 0) > 0) fit.ci = isoflopBootstrap(runs, o);
  fit.warnings = isoflopWarnings(fit, o);
  return fit;
}

/** Percentile intervals of a, b, kN, kD from resampling runs within each budget. */
export function isoflopBootstrap(
  runs: Run[],
  o: IsoflopOptions = {},
): { level: number; samples: number; params: Record<string, Interval> } {
  const samples = o.bootstrap ?? 200, level = o.level ?? 0.95, rng = makeRng(o.seed ?? 1);
  const groups = budgets(runs);
  const acc: Record<string, number[]> = { a: [], b: [], kN: [], kD: [] };
  for (let s = 0; s < samples; s++) {
    const w = new Float64Array(runs.length);
    for (const g of groups) for (let j = 0; j < g.ids.length; j++) w[g.ids[rng.int(g.ids.length)]]++;
    const r = analyse(runs, groups, w);
    if (!r.params) continue;
    for (const k of Object.keys(acc)) acc[k].push(r.params[k as keyof typeof r.params]);
  }
  const lo = (1 - level) / 2;
  const params = Object.fromEntries(
    Object.entries(acc).map(([k, v]) => {
      const sorted = v.filter(Number.isFinite).sort((x, y) => x - y);
      return [k, [percentile(sorted, lo), percentile(sorted, 1 - lo)] as Interval];
    }),
  );
  return { level, samples, params };
}

function isoflopWarnings(fit: IsoflopFit, o: IsoflopOptions): string[] {
  const out: string[] = [];
  for (const s of fit.skipped) out.push(`budget C = ${fmt(s.C)} has no parabola minimum: ${s.reason}`);
  for (const p of fit.optima) {
    if (p.nStar < p.nRange[0] || p.nStar > p.nRange[1]) {
      out.push(
        `budget C = ${fmt(p.C)}: the minimum N* = ${
          fmt(p.nStar)
        } lies outside the sizes run there (extrapolated)`,
      );
    }
  }
  if (fit.optima.length < 3) out.push(`only ${fit.optima.length} budgets: a and b rest on two points`);
  const width = o.ciWidth ?? 0.5;
  for (const [k, [lo, hi]] of Object.entries(fit.ci?.params ?? {})) {
    const est = fit.params[k as keyof IsoflopFit["params"]];
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) out.push(`${k}: bootstrap interval is not finite`);
    else if (k !== "kN" && k !== "kD" && hi - lo > width * Math.abs(est)) {
      out.push(
        `${k}: ${Math.round(fit.ci!.level * 100)}% bootstrap interval [${fmt(lo)}, ${
          fmt(hi)
        }] is wider than ${width}× the estimate ${fmt(est)}`,
      );
    }
  }
  return out;
}

/** The `--json` shape: {form: "isoflop", params: {a, b, kN, kD}, optima: [{C, nStar, dStar, loss, …}], ci?, …}. */
export function isoflopSummary(fit: IsoflopFit): Record<string, unknown> {
  const out: Record<string, unknown> = {
    form: fit.form,
    params: fit.params,
    optima: fit.optima.map(({ C, nStar, dStar, loss, points, lnNStarSE }) => ({
      C,
      nStar,
      dStar,
      loss,
      points,
      ...(lnNStarSE !== undefined ? { lnNStarSE } : {}),
    })),
  };
  if (fit.ci) out.ci = fit.ci;
  out.points = fit.points;
  if (fit.skipped.length) out.skipped = fit.skipped;
  out.warnings = fit.warnings;
  if (fit.notes.length) out.notes = fit.notes;
  return out;
}

/** A plain-text report: the power laws and the per-budget optima. */
export function isoflopText(fit: IsoflopFit): string {
  const p = fit.params, ci = fit.ci?.params;
  const iv = (k: string) => (ci?.[k] ? `  [${fmt(ci[k][0])}, ${fmt(ci[k][1])}]` : "");
  const rows = fit.optima.map((o) => [
    fmt(o.C),
    fmt(o.nStar),
    o.lnNStarSE !== undefined ? `×÷${fmt(Math.exp(o.lnNStarSE))}` : "",
    fmt(o.dStar),
    fmt(o.loss),
    String(o.points),
  ]);
  const notes = fit.notes.map((n) => `note: ${n}\n`).join("");
  const warn = fit.warnings.length ? `\nWARNING:\n${fit.warnings.map((w) => `  - ${w}`).join("\n")}` : "";
  return `isoflop (Approach 2): N* = ${fmt(p.kN)}·C^a, D* = ${fmt(p.kD)}·C^b\n${notes}` +
    `a = ${fmt(p.a)}${iv("a")}\nb = ${fmt(p.b)}${iv("b")}\n` +
    plainTable(["C", "N*", "N* s.e.", "D*", "loss", "runs"], rows) + warn;
}
