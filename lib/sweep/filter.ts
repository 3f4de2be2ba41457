/**
 * Run filters: the spec's include/exclude objects and the CLI's `--only key=value,…` expressions.
 * @module
 */
import { InputError } from "../spec/errors.ts";
import type { Filter } from "../spec/schema.ts";
import { unknownNameMessage } from "../spec/suggest.ts";

/** The coordinates of a run that filters look at. */
export interface RunCoords {
  id: string;
  scheme: string;
  fwd: string;
  bwd: string;
  model: string;
  layers: number;
  dModel: number;
  /** The spec's tokens.perParam entry this run comes from (absent for absolute budgets). */
  tokensPerParam?: number;
  /** The spec's tokens.absolute entry this run comes from (absent for per-parameter budgets). */
  tokens?: number;
  seed: number;
  /** Attention recipe ("fp32" unless the spec crosses attention recipes). */
  attention?: string;
}

const list = <T>(
  v: T | T[] | undefined,
): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

/** True when every field given in `f` matches one of its values. */
export function matchesFilter(run: RunCoords, f: Filter): boolean {
  const checks: [unknown[] | undefined, unknown][] = [
    [list(f.scheme), run.scheme],
    [list(f.model), run.model],
    [list(f.tokensPerParam), run.tokensPerParam],
    [list(f.tokens), run.tokens],
    [list(f.seed), run.seed],
  ];
  return checks.every(([values, v]) => values === undefined || values.includes(v));
}

/** Applies a spec's include (any) and exclude (none) lists. */
export function applySpecFilters<T extends RunCoords>(
  runs: T[],
  include?: Filter[],
  exclude?: Filter[],
): T[] {
  return runs.filter((r) =>
    (!include || include.some((f) => matchesFilter(r, f))) &&
    !(exclude ?? []).some((f) => matchesFilter(r, f))
  );
}

const onlyKeys = [
  "id",
  "scheme",
  "fwd",
  "bwd",
  "model",
  "layers",
  "dModel",
  "tokensPerParam",
  "tokens",
  "seed",
  "attention",
] as const;

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

/**
 * Parses `--only`: comma-separated `key=value` terms (all must match), each value a `|`-list of globs;
 * a bare term matches the run id (glob). Keys: id, scheme, fwd, bwd, model, layers, dModel,
 * tokensPerParam, tokens, seed. Example: `scheme=bf16|fp32,model=L2-*`.
 */
export function parseOnly(expr: string): (run: RunCoords) => boolean {
  const terms = expr.split(",").map((t) => t.trim()).filter(Boolean);
  if (terms.length === 0) throw new InputError(`--only: empty filter`);
  const tests = terms.map((term) => {
    const eq = term.indexOf("=");
    const key = eq < 0 ? "id" : term.slice(0, eq).trim();
    const values = (eq < 0 ? term : term.slice(eq + 1)).split("|").map((v) => glob(v.trim()));
    if (!(onlyKeys as readonly string[]).includes(key)) {
      throw new InputError(`--only: ${unknownNameMessage("key", key, [...onlyKeys])}`);
    }
    return (run: RunCoords) => {
      const v = run[key as keyof RunCoords];
      return v !== undefined && values.some((re) => re.test(String(v)));
    };
  });
  return (run) => tests.every((t) => t(run));
}
