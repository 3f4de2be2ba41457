/**
 * `deno task sweep status EXP`: the state of every run from the results store (finished, diverged, failed
 * from the records; running when its heartbeat is fresh; pending otherwise, noting a checkpoint), grouped
 * by the Slurm array task that owns it, with that task's Slurm state when `squeue`/`scontrol`/`sacct` answer.
 * @module
 */
import { parse } from "csv-parse/sync";
import { currentRunIds } from "../results/merge.ts";
import { ResultsDir } from "../results/store.ts";
import { textTable } from "./format.ts";
import type { SlurmJobs } from "./slurm_submit.ts";

/** A run's state as the store shows it. */
export type RunState = "finished" | "diverged" | "failed" | "running" | "pending";
/** The states in display order. */
export const RUN_STATES: RunState[] = ["finished", "running", "pending", "failed", "diverged"];

/** One run in the status. */
export interface RunStatus {
  id: string;
  state: RunState;
  /** Array task (1-based shard) that owns it, when submitted with --slurm. */
  task?: number;
  /** Host of the record, or "has a checkpoint" for a pending run that started before. */
  note?: string;
}

/** The status of an experiment. */
export interface SweepStatus {
  experiment: string;
  runs: RunStatus[];
  /** The latest --slurm submission (slurm/jobs.json), if any. */
  jobs?: SlurmJobs;
  /** Slurm state by job id (`<array>_<task>` and the follow-up's id), where Slurm answered. */
  slurm: Map<string, string>;
}

/** A heartbeat younger than this means the run is training now. */
const FRESH_MS = 30_000;

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch {
    return undefined;
  }
}

async function mtime(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).mtime?.getTime();
  } catch {
    return undefined;
  }
}

async function run(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : undefined;
  } catch {
    return undefined; // not installed (or not allowed): no Slurm column
  }
}

/**
 * Slurm states of the submission's jobs: `squeue` for pending and running ones, then `sacct` (when
 * accounting is on) and `scontrol show job` (jobs ended within MinJobAge) for the others.
 */
export async function slurmStates(jobs: SlurmJobs): Promise<Map<string, string>> {
  const want = [...Array.from({ length: jobs.tasks }, (_, i) => `${jobs.array}_${i + 1}`), jobs.followup];
  const states = new Map<string, string>();
  const q = await run("squeue", ["-h", "-r", "-j", `${jobs.array},${jobs.followup}`, "-o", "%i|%T|%r"]);
  for (const line of q?.split("\n") ?? []) {
    const [id, st, reason] = line.trim().split("|");
    if (id && st) states.set(id, reason && reason !== "None" && st === "PENDING" ? `${st} (${reason})` : st);
  }
  const missing = () => want.filter((id) => !states.has(id));
  if (missing().length) {
    const a = await run("sacct", [
      "-n",
      "-X",
      "-P",
      "-j",
      `${jobs.array},${jobs.followup}`,
      "-o",
      "JobID,State",
    ]);
    for (const line of a?.split("\n") ?? []) {
      const [id, st] = line.trim().split("|");
      if (id && st && !states.has(id)) states.set(id, st);
    }
  }
  for (const id of missing()) {
    const s = await run("scontrol", ["show", "job", "-o", id]);
    const st = s && /JobState=([A-Z_]+)/.exec(s)?.[1];
    if (st) states.set(id, st);
  }
  return states;
}

/**
 * Reads the status of the experiment in `dir`: the runs its spec.json files and slurm/runs.json list, each
 * from its record (or its runs.csv row when the record is absent).
 */
export async function sweepStatus(dir: ResultsDir, now = Date.now()): Promise<SweepStatus> {
  const experiment = dir.dir.split("/").at(-1)!;
  const planned = await readJson<{ runs: { id: string; task: number }[] }>(`${dir.dir}/slurm/runs.json`);
  const taskOf = new Map(planned?.runs.map((r) => [r.id, r.task]) ?? []);
  const ids = new Set([...(await currentRunIds(dir)) ?? [], ...taskOf.keys()]);
  // runs.csv rows stand in for records a copy of the results may lack (results/reference/…).
  const table = new Map<string, Record<string, string>>();
  try {
    for (
      const r of parse(await Deno.readTextFile(dir.runsCsv), { columns: true }) as Record<string, string>[]
    ) {
      table.set(r.run_id, r);
    }
  } catch { /* no runs.csv yet */ }
  const runs: RunStatus[] = [];
  for (const id of [...ids].sort()) {
    const row = (await dir.readRecord(id))?.row ?? table.get(id);
    let state: RunState, note: string | undefined;
    if (row) {
      state = row.status as RunState;
      note = row.hostname ? String(row.hostname) : undefined;
    } else {
      const beat = await mtime(`${dir.runDir(id)}/elapsed.json`);
      state = beat !== undefined && now - beat < FRESH_MS ? "running" : "pending";
      if (state === "pending" && (await mtime(`${dir.ckptDir(id)}/trainer_state.json`)) !== undefined) {
        note = "has a checkpoint";
      }
    }
    runs.push({ id, state, task: taskOf.get(id), note });
  }
  const jobs = await readJson<SlurmJobs>(`${dir.dir}/slurm/jobs.json`);
  return { experiment, runs, jobs, slurm: jobs ? await slurmStates(jobs) : new Map() };
}

/** True when every run is finished or diverged. */
export function allDone(s: SweepStatus): boolean {
  return s.runs.length > 0 && s.runs.every((r) => r.state === "finished" || r.state === "diverged");
}

/** The status as text: a summary line, one row per array task, then the runs not done. */
export function statusText(s: SweepStatus): string {
  const count = (runs: RunStatus[], st: RunState) => runs.filter((r) => r.state === st).length;
  const lines = [
    `${s.experiment}: ${s.runs.length} runs: ` +
    RUN_STATES.map((st) => `${count(s.runs, st)} ${st}`).join(", "),
  ];
  if (s.jobs) {
    const j = s.jobs;
    const rows = Array.from({ length: j.tasks }, (_, i) => {
      const mine = s.runs.filter((r) => r.task === i + 1);
      const id = `${j.array}_${i + 1}`;
      return [
        `${i + 1}/${j.tasks}`,
        id,
        s.slurm.get(id) ?? "?",
        String(mine.length),
        ...RUN_STATES.map((st) => String(count(mine, st))),
      ];
    });
    rows.push(["merge-fit-plot", j.followup, s.slurm.get(j.followup) ?? "?", "", "", "", "", "", ""]);
    lines.push(
      "",
      `submitted ${j.submittedAt} (array ${j.array}, follow-up ${j.followup}); "?": Slurm does not know the job (any more)`,
      textTable(["task", "job", "slurm", "runs", ...RUN_STATES], rows, [
        false,
        false,
        false,
        true,
        true,
        true,
        true,
        true,
        true,
      ]),
    );
  }
  const open = s.runs.filter((r) => r.state !== "finished");
  if (open.length) {
    lines.push(
      "",
      textTable(
        ["run_id", "state", "task", "note"],
        open.map((r) => [r.id, r.state, r.task ? String(r.task) : "", r.note ?? ""]),
      ),
    );
  }
  return lines.join("\n");
}
