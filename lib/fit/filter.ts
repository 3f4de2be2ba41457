/**
 * Row selection before a fit: `--where` comparisons on columns (repeatable, all must hold) and
 * `--drop-top-loss K` (drop the K runs with the highest loss). Bad expressions and unknown columns are
 * FitInputErrors naming the closest column.
 * @module
 */
import { closestNames } from "../spec/suggest.ts";
import { FitInputError } from "./errors.ts";
import type { Run, Table } from "./types.ts";

/** One `--where` comparison. */
export interface RowFilter {
  /** Column name. */
  column: string;
  /** Comparison. */
  op: "=" | "!=" | "<" | "<=" | ">" | ">=";
  /** Right-hand side as written. */
  value: string;
  /** The expression as given. */
  text: string;
}

const OPS = ["<=", ">=", "!=", "==", "=", "<", ">"];

/** Parses `COLUMN OP VALUE` (OP one of = == != < <= > >=), e.g. "N>1e8" or "fwd=BF16". */
export function parseWhere(text: string): RowFilter {
  const m = text.match(/^\s*([^<>=!]+?)\s*(<=|>=|!=|==|=|<|>)\s*(.*?)\s*$/);
  if (!m || m[3] === "" || OPS.some((o) => m[3].startsWith(o))) {
    throw new FitInputError(`--where '${text}' is not COLUMN OP VALUE with OP one of = != < <= > >=`);
  }
  const op = (m[2] === "==" ? "=" : m[2]) as RowFilter["op"];
  if (op !== "=" && op !== "!=" && !Number.isFinite(Number(m[3]))) {
    throw new FitInputError(`--where '${text}': ${op} needs a number on the right, got '${m[3]}'`);
  }
  return { column: m[1], op, value: m[3], text };
}

function holds(cell: string | undefined, f: RowFilter): boolean {
  const c = cell ?? "", a = Number(c), b = Number(f.value);
  const numeric = c !== "" && Number.isFinite(a) && Number.isFinite(b);
  switch (f.op) {
    case "=":
      return numeric ? a === b : c === f.value;
    case "!=":
      return numeric ? a !== b : c !== f.value;
    case "<":
      return numeric && a < b;
    case "<=":
      return numeric && a <= b;
    case ">":
      return numeric && a > b;
    case ">=":
      return numeric && a >= b;
  }
}

/** The rows satisfying every filter (columns checked first); the table otherwise unchanged. */
export function applyFilters(table: Table, filters: RowFilter[]): Table {
  for (const f of filters) {
    if (!table.columns.includes(f.column)) {
      const close = closestNames(f.column, table.columns);
      throw new FitInputError(
        `--where '${f.text}': no column '${f.column}' in ${table.path}` +
          (close.length ? `; did you mean ${close.map((c) => `'${c}'`).join(", ")}?` : ""),
      );
    }
  }
  return { ...table, rows: table.rows.filter((r) => filters.every((f) => holds(r[f.column], f))) };
}

/** Drops the k runs with the highest loss (ties: the later rows first); returns kept and dropped. */
export function dropTopLoss(runs: Run[], k: number): { runs: Run[]; dropped: Run[] } {
  if (k <= 0) return { runs, dropped: [] };
  const order = runs.map((_, i) => i).sort((x, y) => runs[y].L - runs[x].L || y - x);
  const drop = new Set(order.slice(0, k));
  return { runs: runs.filter((_, i) => !drop.has(i)), dropped: runs.filter((_, i) => drop.has(i)) };
}
