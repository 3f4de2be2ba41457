/**
 * Reading fit input: an experiment's results directory (its runs.csv) or any CSV, mapped to runs through
 * configurable column names. Every problem is a FitInputError with a one-line message, raised before
 * any fitting starts; values of the wrong kind (a loss ≤ 0, N < 1, bits outside 1–64) are refused.
 * @module
 */
import { parse } from "csv-parse/sync";
import { FitInputError } from "./errors.ts";
import { formNamed } from "./forms/mod.ts";
import type { ColumnMap, LawForm, RowNeeds, Run, Table } from "./types.ts";

export { FitInputError } from "./errors.ts";
export type { ColumnMap, Run, Table } from "./types.ts";

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

/** The row needs of a form (a name, a form, or the needs themselves). */
function needsOf(form: string | LawForm | RowNeeds): RowNeeds {
  if (typeof form === "string") return formNamed(form).reads;
  return "reads" in form ? form.reads : form;
}

/**
 * Maps rows to runs for a form: keeps only `status = finished` rows when a status column exists, checks
 * every needed column and value. With `cols.c` set and `cols.d` empty, D = C/(6N). Throws FitInputError on
 * the first problem.
 */
export function toRuns(
  table: Table,
  form: string | LawForm | RowNeeds,
  cols: ColumnMap = DEFAULT_COLUMNS,
): Run[] {
  const need = needsOf(form);
  const has = (c: string) => table.columns.includes(c);
  const fromC = cols.d === "";
  if (fromC && !cols.c) throw new FitInputError("no token column: give --d-col NAME or --c-col NAME");
  const readFwd = need.labels === "required" || need.labels === "fwd" ||
    (need.labels === "optional" && has(cols.fwd) && has(cols.bwd));
  const readBwd = need.labels === "required" || (readFwd && has(cols.bwd));
  const required = [cols.n, fromC ? cols.c! : cols.d, cols.loss];
  if (cols.c && !fromC) required.push(cols.c);
  if (readFwd) required.push(cols.fwd);
  if (need.labels === "required") required.push(cols.bwd);
  if (need.bits) required.push(...cols.bits);
  for (const c of required) {
    if (!has(c)) {
      throw new FitInputError(
        `column '${c}' not found in ${table.path} (columns: ${table.columns.join(", ")})`,
      );
    }
  }
  const hasStatus = has("status");
  const runs: Run[] = [];
  table.rows.forEach((row, k) => {
    if (hasStatus && row.status !== "finished") return;
    const id = row.run_id || `row${k + 1}`;
    const where = `${table.path} line ${k + 2} (run ${id})`;
    // a quantized attention recipe makes the run a precision of its own (runs.csv `attention`; empty = fp32)
    const att = row.attention && row.attention !== "fp32" ? `@${row.attention}` : "";
    const num = (c: string, what: string, min = 0, hint = "") => {
      const v = Number(row[c]);
      if (row[c] === "" || !Number.isFinite(v) || v <= 0) {
        throw new FitInputError(`${where}: ${what} '${c}' must be a positive number, got '${row[c]}'`);
      }
      if (v < min) throw new FitInputError(`${where}: ${what} '${c}' = ${row[c]} is below ${min}${hint}`);
      return v;
    };
    const N = num(cols.n, "parameter count", 1, ": give raw counts, not millions or billions");
    const C = cols.c ? num(cols.c, "compute", 1, ": give FLOPs, not a scaled unit") : undefined;
    const D = fromC
      ? C! / (6 * N)
      : num(cols.d, "token count", 1, ": give raw counts, not millions or billions");
    const bits = need.bits ? cols.bits.map((c) => num(c, "precision", 1, " bits")) : [];
    for (const [k2, b] of bits.entries()) {
      if (b > 64) {
        throw new FitInputError(`${where}: precision '${cols.bits[k2]}' = ${b} is not a bit width (1–64)`);
      }
    }
    runs.push({
      id,
      N,
      D,
      L: num(cols.loss, "loss"),
      fwd: readFwd ? row[cols.fwd] + att : "",
      bwd: readBwd ? row[cols.bwd] + att : "",
      bits,
      fwdBits: row[cols.fwdBits] ? Number(row[cols.fwdBits]) : NaN,
      bwdBits: row[cols.bwdBits] ? Number(row[cols.bwdBits]) : NaN,
      ...(C !== undefined ? { C } : {}),
    });
  });
  return runs;
}
