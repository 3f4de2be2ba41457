/**
 * The sweep's post-training quantization stage (spec field `ptq: ["fpq", "hqdit:w4a8", …]`): every recipe
 * (at its default bits, or `name:wXaY`) runs on every finished run's final checkpoint, writing the quantized
 * checkpoint to `runs/<id>/ptq/<recipe>-<bits>/` and one row per job to `ptq.csv` (run_id, recipe, w_bits,
 * a_bits, loss_before, loss_after, delta, seconds, plus the run's N `params` and D `tokens`, so that
 * `deno task fit results/<exp>/ptq.csv --form kumar-ptq --n-col params --d-col tokens --loss-col delta
 * --bits-col a_bits --where recipe=fpq` fits the post-training law directly). A job is done when its row exists: finished jobs are never
 * redone; a killed job left no row and restarts from scratch (its directory is cleared first). Jobs run as
 * `deno task ptq` runs them (lib/ptq/run.ts `runPtqJob`): the fpq recipes' searches on the GPU, the rest of
 * PTQ float64 on the CPU; each job's `report.json` is `deno task ptq --json`'s output.
 * @module
 */
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { InputError } from "../spec/errors.ts";
import type { Experiment } from "../spec/schema.ts";
import { writeJsonAtomic, writeTextAtomic } from "../results/atomic.ts";
import type { ResultsDir } from "../results/store.ts";
import { parseBits, recipeByName } from "../ptq/recipes.ts";
import { preparePtq, runPtqJob } from "../ptq/run.ts";

/** Columns of ptq.csv. */
export const PTQ_COLUMNS = [
  "run_id",
  "recipe",
  "w_bits",
  "a_bits",
  "loss_before",
  "loss_after",
  "delta",
  "seconds",
  "params",
  "tokens",
] as const;

/** One PTQ job of the stage. */
export interface PtqJob {
  /** Recipe name. */
  recipe: string;
  /** Bits label (wXaY). */
  bits: string;
  /** Weight and activation bits. */
  w: number;
  /** Activation bits. */
  a: number;
}

/** Parses the spec's `ptq` entries; throws InputError naming the bad entry (before any training). */
export function ptqJobs(entries: string[]): PtqJob[] {
  return entries.map((e) => {
    const [name, bitsText, ...rest] = e.split(":");
    try {
      if (rest.length) throw new Error(`expected "recipe" or "recipe:wXaY"`);
      const r = recipeByName(name);
      const b = parseBits(bitsText ?? r.bits);
      return { recipe: r.name, bits: b.bits, w: b.w, a: b.a };
    } catch (err) {
      throw new InputError(`ptq entry "${e}": ${(err as Error).message}`);
    }
  });
}

/** Reads ptq.csv rows (empty when absent). */
export async function readPtqCsv(path: string): Promise<Record<string, string>[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
}

/** Options of {@link runPtqStage}. */
export interface PtqStageOptions {
  /** Progress lines. */
  note?: (line: string) => void;
  /** Stop between jobs. */
  signal?: AbortSignal;
}

/** Runs the pending PTQ jobs over the finished runs `runIds`; returns the number of jobs run. */
export async function runPtqStage(
  dir: ResultsDir,
  spec: Experiment,
  runIds: string[],
  opts: PtqStageOptions = {},
): Promise<number> {
  const jobs = ptqJobs(spec.ptq ?? []);
  const csv = `${dir.dir}/ptq.csv`;
  const rows = await readPtqCsv(csv);
  const done = new Set(rows.map((r) => `${r.run_id}|${r.recipe}|${r.w_bits}|${r.a_bits}`));
  const o = spec.ptqOptions;
  let ran = 0;
  for (const id of runIds) {
    const rec = await dir.readRecord(id);
    if (rec?.row.status !== "finished") continue;
    for (const j of jobs) {
      if (done.has(`${id}|${j.recipe}|${j.w}|${j.a}`)) continue;
      opts.signal?.throwIfAborted();
      const out = `${dir.runDir(id)}/ptq/${j.recipe}-${j.bits}`;
      await Deno.remove(out, { recursive: true }).catch(() => {});
      opts.note?.(`ptq ${id} ${j.recipe} ${j.bits} …`);
      const req = {
        checkpoint: dir.ckptDir(id),
        recipe: j.recipe,
        bits: j.bits,
        out,
        calib: o?.calib ?? 32,
        seed: o?.seed ?? 0,
        evalTokens: o?.evalTokens,
        iters: o?.iters,
        data: spec.data,
      };
      const r = await runPtqJob(preparePtq(req), req);
      await writeJsonAtomic(`${out}/report.json`, r);
      rows.push({
        run_id: id,
        recipe: j.recipe,
        w_bits: String(j.w),
        a_bits: String(j.a),
        loss_before: String(r.lossBefore),
        loss_after: String(r.lossAfter),
        delta: String(r.delta),
        seconds: r.seconds.toFixed(2),
        params: String(rec.row.non_embedding_params ?? ""),
        tokens: String(rec.row.tokens ?? ""),
      });
      done.add(`${id}|${j.recipe}|${j.w}|${j.a}`);
      await writeTextAtomic(
        csv,
        stringify(rows.map((x) => PTQ_COLUMNS.map((c) => x[c] ?? "")), {
          header: true,
          columns: [...PTQ_COLUMNS],
        }),
      );
      opts.note?.(`ptq ${id} ${j.recipe} ${j.bits}: δ ${r.delta.toFixed(4)} (${r.seconds.toFixed(1)} s)`);
      ran++;
    }
  }
  return ran;
}
