/**
 * The `runs.csv` and `curves/<run_id>.csv` columns (the contract with the fitter), with their docs.
 * The README table is generated from here (`columnsMarkdown`) and checked by a test.
 * @module
 */

/** One documented column. */
export interface Column {
  name: string;
  type: "string" | "int" | "number";
  doc: string;
}

/** `runs.csv`: one tidy row per run, exactly these columns in this order. */
export const RUN_COLUMNS = [
  {
    name: "run_id",
    type: "string",
    doc: "stable id from the resolved config: scheme-shape-tokens-seed-hash",
  },
  {
    name: "status",
    type: "string",
    doc: "finished, diverged (loss went NaN/Inf or exploded) or failed (error)",
  },
  {
    name: "family",
    type: "string",
    doc:
      "model family: llama (byte-level decoder) or dit (diffusion transformer; its columns below in DiT terms)",
  },
  { name: "scheme", type: "string", doc: "scheme name from the spec" },
  { name: "fwd", type: "string", doc: "forward quantization label" },
  { name: "bwd", type: "string", doc: "backward quantization label" },
  { name: "fwd_bits", type: "number", doc: "element bits of the forward GEMM operands (32 fp32, 16 bf16)" },
  { name: "bwd_bits", type: "number", doc: "element bits of the backward GEMM operands" },
  { name: "layers", type: "int", doc: "blocks (decoder layers; DiT depth)" },
  { name: "d_model", type: "int", doc: "residual width" },
  { name: "heads", type: "int", doc: "attention heads" },
  { name: "ffn", type: "int", doc: "MLP hidden size (SwiGLU; DiT: mlp_ratio × width)" },
  { name: "context", type: "int", doc: "context length in tokens (DiT: patches per image)" },
  {
    name: "non_embedding_params",
    type: "int",
    doc: "N: blocks + final norm, without embedding and lm_head (the scaling-law N)",
  },
  { name: "total_params", type: "int", doc: "N plus embedding and untied lm_head" },
  {
    name: "tokens",
    type: "int",
    doc: "D: training tokens actually seen (steps × batch × context; DiT: images × patches per image)",
  },
  { name: "flops", type: "number", doc: "training compute 6·N·D (N non-embedding)" },
  {
    name: "final_val_loss",
    type: "number",
    doc: "validation loss (nats/token) at the end; last finite if diverged",
  },
  { name: "final_train_loss", type: "number", doc: "train loss at the last step; last finite if diverged" },
  {
    name: "wall_seconds",
    type: "number",
    doc: "training wall time, summed over interrupted attempts (each counted up to its last 5 s heartbeat)",
  },
  {
    name: "tokens_per_second",
    type: "number",
    doc: "training throughput reported by the engine (empty if a resume had no step left)",
  },
  { name: "adapter", type: "string", doc: "WebGPU adapter the run trained on" },
  {
    name: "hostname",
    type: "string",
    doc: "machine (cluster node) the run last trained on; empty in older results",
  },
  { name: "seed", type: "int", doc: "seed for init, batches and stochastic rounding" },
  { name: "commit", type: "string", doc: "git commit of the code that trained the run" },
  {
    name: "attention",
    type: "string",
    doc: "attention recipe (`deno task schemes`; files written before this column existed: fp32)",
  },
] as const satisfies readonly Column[];

/** `curves/<run_id>.csv`: one row per logged step. */
export const CURVE_COLUMNS = [
  { name: "step", type: "int", doc: "optimizer step (1-based)" },
  { name: "tokens", type: "int", doc: "training tokens seen after this step" },
  { name: "lr", type: "number", doc: "learning rate used at this step" },
  { name: "train_loss", type: "number", doc: "training loss of this step's batch" },
  { name: "val_loss", type: "number", doc: "validation loss; empty where not evaluated" },
] as const satisfies readonly Column[];

/** Names of the runs.csv columns, in order. */
export type RunColumn = typeof RUN_COLUMNS[number]["name"];
/** One runs.csv row. */
export type RunRow = { [K in RunColumn]: string | number | null };
/** Column names of runs.csv, in order. */
export const RUN_COLUMN_NAMES: RunColumn[] = RUN_COLUMNS.map((c) => c.name);
/** Column names of a curve file, in order. */
export const CURVE_COLUMN_NAMES: string[] = CURVE_COLUMNS.map((c) => c.name);

/** Markdown tables documenting both files (what the README shows). */
export function columnsMarkdown(): string {
  const table = (cols: readonly Column[]) =>
    [
      "| column | type | meaning |",
      "|---|---|---|",
      ...cols.map((c) => `| \`${c.name}\` | ${c.type} | ${c.doc} |`),
    ]
      .join("\n");
  return [
    "`results/<experiment>/runs.csv`, one row per run:",
    "",
    table(RUN_COLUMNS),
    "",
    "`results/<experiment>/curves/<run_id>.csv`, one row per logged step:",
    "",
    table(CURVE_COLUMNS),
    "",
  ].join("\n");
}
