/**
 * Reading fit input: an experiment's results directory (its runs.csv) or any CSV, mapped to runs through
 * configurable column names. Every problem is a FitInputError with a one-line message, raised before
 * any fitting starts.
 * @module
 */
import { parse } from "csv-parse/sync";
import type { FormName } from "./forms.ts";

/** Bad fit input; the CLI prints the message as one line and exits 2. */
export class FitInputError extends Error {
  /** Error name, for logs. */
  override name = "FitInputError";
}

/** A CSV as string cells. */
export interface Table {
  /** Data rows keyed by header. */
  rows: Record<string, string>[];
  /** Header, in file order. */
  columns: string[];
  /** The CSV file read. */
  path: string;
  /** The experiment's results directory when the input was one (outputs go there). */
  dir?: string;
}

/** Column names the fitter reads. */
export interface ColumnMap {
  /** Parameter count N. */
  n: string;
  /** Training tokens D. */
  d: string;
  /** Observed loss L. */
  loss: string;
  /** Forward recipe label. */
  fwd: string;
  /** Backward recipe label. */
  bwd: string;
  /** Precision columns (bits) for the Kumar form; one γ each. */
  bits: string[];
  /** Forward bits, read when present (cost model). */
  fwdBits: string;
  /** Backward bits, read when present (cost model). */
  bwdBits: string;
}

/** The sweep contract's defaults (results/<experiment>/runs.csv). */
export const DEFAULT_COLUMNS: ColumnMap = {
  n: "non_embedding_params",
  d: "tokens",
  loss: "final_val_loss",
  fwd: "fwd",
  bwd: "bwd",
  bits: ["fwd_bits"],
  fwdBits: "fwd_bits",
  bwdBits: "bwd_bits",
};

/** One fitted run. */
export interface Run {
  /** run_id, or "row<k>" when the CSV has none. */
  id: string;
  /** Parameter count. */
  N: number;
  /** Training tokens. */
  D: number;
  /** Observed loss. */
  L: number;
  /** Forward label ("" when the CSV has no such column). */
  fwd: string;
  /** Backward label ("" when the CSV has no such column). */
  bwd: string;
  /** Bits per precision column (Kumar form; empty otherwise). */
  bits: number[];
  /** Forward bits when the CSV has them (NaN otherwise); used by the cost model only. */
  fwdBits?: number;
  /** Backward bits when the CSV has them (NaN otherwise). */
  bwdBits?: number;
}

/** Reads runs.csv from a results directory, or the CSV file itself. */
export async function readTable(input: string): Promise<Table> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(input);
  } catch {
    throw new FitInputError(`input ${input} does not exist`);
  }
  const dir = stat.isDirectory ? input.replace(/\/+$/, "") : undefined;
  const path = dir ? `${dir}/runs.csv` : input;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new FitInputError(dir ? `${dir} has no runs.csv` : `cannot read ${path}`);
  }
  return parseTable(text, path, dir);
}

/** Parses CSV text (header row required). */
export function parseTable(text: string, path = "<csv>", dir?: string): Table {
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, relax_column_count: true }) as string[][];
  } catch (e) {
    throw new FitInputError(`${path} is not valid CSV: ${(e as Error).message.split("\n")[0]}`);
  }
  if (records.length === 0) throw new FitInputError(`${path} is empty`);
  const columns = records[0].map((c) => c.trim());
  const rows = records.slice(1).map((r) =>
    Object.fromEntries(columns.map((c, k) => [c, (r[k] ?? "").trim()]))
  );
  return { rows, columns, path, dir };
}

/** Which columns a form needs beyond N, D, L. */
function needed(form: FormName, cols: ColumnMap, columns: string[]): { labels: boolean; bits: boolean } {
  const has = (c: string) => columns.includes(c);
  if (form === "quartet") return { labels: true, bits: false };
  if (form === "kumar") return { labels: has(cols.fwd) && has(cols.bwd), bits: true };
  return { labels: has(cols.fwd) && has(cols.bwd), bits: false };
}

/**
 * Maps rows to runs for a form: keeps only `status = finished` rows when a status column exists, checks
 * every needed column and value. Throws FitInputError on the first problem.
 */
export function toRuns(table: Table, form: FormName, cols: ColumnMap = DEFAULT_COLUMNS): Run[] {
  const need = needed(form, cols, table.columns);
  const required = [cols.n, cols.d, cols.loss];
  if (need.labels) required.push(cols.fwd, cols.bwd);
  if (need.bits) required.push(...cols.bits);
  for (const c of required) {
    if (!table.columns.includes(c)) {
      throw new FitInputError(
        `column '${c}' not found in ${table.path} (columns: ${table.columns.join(", ")})`,
      );
    }
  }
  const hasStatus = table.columns.includes("status");
  const runs: Run[] = [];
  table.rows.forEach((row, k) => {
    if (hasStatus && row.status !== "finished") return;
    const id = row.run_id || `row${k + 1}`;
    const where = `${table.path} line ${k + 2} (run ${id})`;
    // a quantized attention recipe makes the run a precision of its own (runs.csv `attention`; empty = fp32)
    const att = row.attention && row.attention !== "fp32" ? `@${row.attention}` : "";
    const num = (c: string, what: string) => {
      const v = Number(row[c]);
      if (row[c] === "" || !Number.isFinite(v) || v <= 0) {
        throw new FitInputError(`${where}: ${what} '${c}' must be a positive number, got '${row[c]}'`);
      }
      return v;
    };
    runs.push({
      id,
      N: num(cols.n, "parameter count"),
      D: num(cols.d, "token count"),
      L: num(cols.loss, "loss"),
      fwd: need.labels ? row[cols.fwd] + att : "",
      bwd: need.labels ? row[cols.bwd] + att : "",
      bits: need.bits ? cols.bits.map((c) => num(c, "precision")) : [],
      fwdBits: row[cols.fwdBits] ? Number(row[cols.fwdBits]) : NaN,
      bwdBits: row[cols.bwdBits] ? Number(row[cols.bwdBits]) : NaN,
    });
  });
  return runs;
}
