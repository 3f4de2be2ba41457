/**
 * Printing runs.csv rows as an aligned table, CSV or JSON (`deno task results`).
 * @module
 */
import { textTable } from "../sweep/format.ts";
import type { RunRow } from "./columns.ts";
import { runsCsvText } from "./merge.ts";

/** Output formats of `deno task results`. */
export const FORMATS = ["table", "csv", "json"] as const;
/** One of FORMATS. */
export type Format = typeof FORMATS[number];

const tableColumns: [keyof RunRow, string][] = [
  ["run_id", "run_id"],
  ["status", "status"],
  ["scheme", "scheme"],
  ["fwd_bits", "fwd_bits"],
  ["bwd_bits", "bwd_bits"],
  ["layers", "L"],
  ["d_model", "d"],
  ["non_embedding_params", "N"],
  ["tokens", "tokens"],
  ["flops", "FLOPs"],
  ["final_val_loss", "val_loss"],
  ["final_train_loss", "train_loss"],
  ["wall_seconds", "wall_s"],
  ["tokens_per_second", "tok/s"],
];

function cell(v: string | number | null, key: keyof RunRow): string {
  if (v === null || v === "") return "";
  if (key === "flops") return Number(v).toExponential(2);
  if (key === "final_val_loss" || key === "final_train_loss") return Number(v).toFixed(4);
  if (key === "wall_seconds") return Number(v).toFixed(1);
  return String(v);
}

/** Renders rows in a format (table: the main columns; csv and json: every column). */
export function renderRows(rows: RunRow[], format: Format): string {
  if (format === "csv") return runsCsvText(rows).trimEnd();
  if (format === "json") return JSON.stringify(rows, null, 2);
  const numeric = new Set(["fwd_bits", "bwd_bits", "layers", "d_model", "non_embedding_params", "tokens"]);
  return textTable(
    tableColumns.map(([, h]) => h),
    rows.map((r) => tableColumns.map(([k]) => cell(r[k], k))),
    tableColumns.map(([k]) => numeric.has(k) || /loss|wall|tokens_per|flops/.test(k)),
  ) + `\n${rows.length} runs`;
}
