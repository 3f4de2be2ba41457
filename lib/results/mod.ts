/**
 * The results store: `results/<experiment>/runs.csv` (one tidy row per run), `curves/<run_id>.csv`,
 * per-run records written atomically, and the merge that rebuilds `runs.csv` from them.
 * @module
 */
export * from "./columns.ts";
export * from "./store.ts";
export * from "./merge.ts";
export * from "./table.ts";
export * from "./atomic.ts";
export * from "./environment.ts";
