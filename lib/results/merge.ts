/**
 * Rebuilding `runs.csv` from the per-run records: one row per record (so a run appears exactly once),
 * in a fixed order, written atomically. Also gathers the shards' spec and environments.
 * @module
 */
import { stringify } from "csv-stringify/sync";
import { writeJsonAtomic, writeTextAtomic } from "./atomic.ts";
import { RUN_COLUMN_NAMES, type RunRow } from "./columns.ts";
import { ResultsDir, type RunRecord } from "./store.ts";

/** Rows of the records, sorted by scheme, N, tokens, seed, run id (independent of who ran what). */
export function sortedRows(records: RunRecord[]): RunRow[] {
  const byId = new Map<string, RunRow>();
  for (const r of records) byId.set(r.row.run_id as string, r.row);
  const key = (
    r: RunRow,
  ) => [r.scheme as string, Number(r.non_embedding_params), Number(r.tokens), Number(r.seed)];
  return [...byId.values()].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < ka.length; i++) {
      if (ka[i] < kb[i]) return -1;
      if (ka[i] > kb[i]) return 1;
    }
    return String(a.run_id).localeCompare(String(b.run_id));
  });
}

/** runs.csv text (header plus rows; empty cells for missing values). */
export function runsCsvText(rows: RunRow[]): string {
  return stringify(rows.map((r) => RUN_COLUMN_NAMES.map((c) => r[c] ?? "")), {
    header: true,
    columns: RUN_COLUMN_NAMES,
  });
}

/** Rewrites runs.csv from the records of the current runs (see currentRecords); returns its rows. */
export async function rebuildRunsCsv(dir: ResultsDir): Promise<RunRow[]> {
  const rows = sortedRows(await currentRecords(dir));
  await writeTextAtomic(dir.runsCsv, runsCsvText(rows));
  return rows;
}

/**
 * Ids of the runs the experiment's spec currently lists: the union over its spec.json files (top level
 * and shards); undefined when there is none.
 */
export async function currentRunIds(dir: ResultsDir): Promise<Set<string> | undefined> {
  const files = [`${dir.dir}/spec.json`];
  try {
    for await (const e of Deno.readDir(`${dir.dir}/shards`)) {
      if (e.isDirectory) files.push(`${dir.metaDir(e.name)}/spec.json`);
    }
  } catch { /* no shards */ }
  let ids: Set<string> | undefined;
  for (const f of files) {
    const spec = (await readJson(f)) as { runs?: { id: string }[] } | undefined;
    if (!spec?.runs) continue;
    ids ??= new Set();
    for (const r of spec.runs) ids.add(r.id);
  }
  return ids;
}

/**
 * The records of the spec's current runs. Records of runs a later version of the spec dropped stay on
 * disk (and come back if the spec lists them again) but leave runs.csv.
 */
export async function currentRecords(dir: ResultsDir): Promise<RunRecord[]> {
  const [records, ids] = await Promise.all([dir.readAllRecords(), currentRunIds(dir)]);
  return ids ? records.filter((r) => ids.has(String(r.row.run_id))) : records;
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return undefined;
  }
}

/**
 * `deno task results merge`: runs.csv from all records, environment.json as the union of every
 * writer's environment (keyed by shard label), spec.json from the newest shard when absent.
 */
export async function mergeResults(dir: ResultsDir): Promise<{ rows: RunRow[]; shards: string[] }> {
  const shards: string[] = [];
  try {
    for await (const e of Deno.readDir(`${dir.dir}/shards`)) if (e.isDirectory) shards.push(e.name);
  } catch { /* no shards */ }
  shards.sort();
  const env = ((await readJson(`${dir.dir}/environment.json`)) ?? {}) as Record<string, unknown>;
  let spec = await readJson(`${dir.dir}/spec.json`);
  for (const s of shards) {
    const e = (await readJson(`${dir.metaDir(s)}/environment.json`)) as Record<string, unknown> | undefined;
    if (e) Object.assign(env, e);
    spec ??= await readJson(`${dir.metaDir(s)}/spec.json`);
  }
  if (Object.keys(env).length) await writeJsonAtomic(`${dir.dir}/environment.json`, env);
  if (spec !== undefined) await writeJsonAtomic(`${dir.dir}/spec.json`, spec);
  return { rows: await rebuildRunsCsv(dir), shards };
}
