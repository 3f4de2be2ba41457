/**
 * Layout of `results/<experiment>/` and the per-run records that concurrent shards write without
 * ever touching the same file:
 *
 * - `runs/<run_id>/record.json`  the run's row and config (written once, when it ends)
 * - `runs/<run_id>/ckpt/`        the engine's checkpoint and model files (hooks.outDir)
 * - `curves/<run_id>.csv`        its training curve
 * - `runs.csv`                   rebuilt from the records of the runs the spec lists (`deno task results
 *                                merge`, or by an unsharded sweep); records of dropped runs stay on disk
 * - `spec.json`, `environment.json`   resolved spec and environments; a shard writes them under `shards/<i>of<n>/`
 * @module
 */
import { stringify } from "csv-stringify/sync";
import type { CurvePoint, TrainConfig } from "../engine/api.ts";
import { writeJsonAtomic, writeTextAtomic } from "./atomic.ts";
import { CURVE_COLUMN_NAMES, type RunRow } from "./columns.ts";
import { ensureWritableDir } from "./writable.ts";

/** What a finished, diverged or failed run leaves behind. */
export interface RunRecord {
  /** Format version of this file. */
  version: 1;
  /** The runs.csv row. */
  row: RunRow;
  /** The resolved training config. */
  config: TrainConfig;
  /** Spec coordinates at the time it ran (names may change later; the id does not). */
  coords: { model: string; tokensPerParam?: number; tokens?: number };
  /** Message of the error of a failed run. */
  error?: string;
  /** ISO time the run ended. */
  endedAt: string;
  /** Shard label that trained it (`all` when unsharded). */
  shard: string;
}

/** Paths of one experiment's results directory. */
export class ResultsDir {
  /** @param dir `results/<experiment>` */
  constructor(readonly dir: string) {}

  /** Directory of the experiment `name` under the results root. */
  static of(root: string, name: string): ResultsDir {
    return new ResultsDir(`${root.replace(/\/+$/, "")}/${name}`);
  }

  /** Per-run directory. */
  runDir(id: string): string {
    return `${this.dir}/runs/${id}`;
  }
  /** The engine's outDir for a run (checkpoints, model). */
  ckptDir(id: string): string {
    return `${this.runDir(id)}/ckpt`;
  }
  /** The run's record. */
  recordPath(id: string): string {
    return `${this.runDir(id)}/record.json`;
  }
  /** The run's curve. */
  curvePath(id: string): string {
    return `${this.dir}/curves/${id}.csv`;
  }
  /** The merged table. */
  get runsCsv(): string {
    return `${this.dir}/runs.csv`;
  }
  /** Where a writer with this label keeps spec.json / environment.json (`all`: the top level). */
  metaDir(label: string): string {
    return label === "all" ? this.dir : `${this.dir}/shards/${label}`;
  }

  /** Reads a run's record, or undefined when it has none (pending or interrupted). */
  async readRecord(id: string): Promise<RunRecord | undefined> {
    try {
      return JSON.parse(await Deno.readTextFile(this.recordPath(id))) as RunRecord;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  }

  /** All records present, in directory order (merge sorts them). */
  async readAllRecords(): Promise<RunRecord[]> {
    const out: RunRecord[] = [];
    try {
      for await (const entry of Deno.readDir(`${this.dir}/runs`)) {
        if (!entry.isDirectory) continue;
        const r = await this.readRecord(entry.name);
        if (r) out.push(r);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return out;
  }

  /** Writes a run's curve then its record (the record last: it marks the run done). */
  async writeRun(record: RunRecord, curve: CurvePoint[]): Promise<void> {
    await writeTextAtomic(this.curvePath(record.row.run_id as string), curveCsv(curve));
    await writeJsonAtomic(this.recordPath(record.row.run_id as string), record);
  }

  /**
   * Deletes temp files a killed writer of this run left behind. Safe with concurrent shards: a run is
   * only ever trained by one process, and only that run's temp files are touched.
   */
  async removeOrphanTemps(id: string): Promise<void> {
    for (const [dir, prefix] of [[this.runDir(id), "."], [`${this.dir}/curves`, `.${id}.csv.`]]) {
      try {
        for await (const e of Deno.readDir(dir)) {
          if (e.isFile && e.name.startsWith(prefix) && e.name.endsWith(".tmp")) {
            await Deno.remove(`${dir}/${e.name}`).catch(() => {});
          }
        }
      } catch { /* directory not there yet */ }
    }
  }

  /** Removes everything of one run (for --force). */
  async removeRun(id: string): Promise<void> {
    await Deno.remove(this.runDir(id), { recursive: true }).catch(() => {});
    await Deno.remove(this.curvePath(id)).catch(() => {});
  }

  /** Creates the directory and proves it writable; InputError otherwise (reported before any run). */
  ensureWritable(): Promise<void> {
    return ensureWritableDir(this.dir, "results directory", "--results");
  }
}

/** A curve as CSV text (val_loss empty where not evaluated). */
export function curveCsv(curve: CurvePoint[]): string {
  return stringify(
    curve.map((p) => [p.step, p.tokens, p.lr, p.trainLoss, p.valLoss ?? ""]),
    { header: true, columns: CURVE_COLUMN_NAMES },
  );
}
