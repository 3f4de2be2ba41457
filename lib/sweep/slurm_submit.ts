/**
 * `deno task sweep SPEC --slurm`: resolves the paths the nodes will use, writes the job array and follow-up
 * scripts and the shared-storage marker under `results/<exp>/slurm/`, submits both with `sbatch` (the
 * follow-up with `--dependency=afterany:<array>`) and records the job ids in `slurm/jobs.json` for
 * `deno task sweep status`.
 * @module
 */
import { writeJsonAtomic, writeTextAtomic } from "../results/atomic.ts";
import { InputError } from "../spec/errors.ts";
import {
  followupScript,
  logDir,
  markerPath,
  type SlurmOptions,
  type SlurmPlan,
  sweepScript,
} from "./slurm.ts";

/** The project checkout this module belongs to (absolute, no trailing slash). */
export const projectDir: string = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** What `slurm/jobs.json` holds: the latest submission. */
export interface SlurmJobs {
  /** Job id of the array. */
  array: string;
  /** Job id of the merge-fit-plot job. */
  followup: string;
  /** Array tasks. */
  tasks: number;
  /** ISO time of submission. */
  submittedAt: string;
}

const abs = (p: string) =>
  (p.startsWith("/") ? p : `${Deno.cwd()}/${p}`).replace(/\/+$/, "").replace(/\/\.\//g, "/");

/** The Deno version pinned in tools/deno/package.json. */
export async function pinnedDenoVersion(project = projectDir): Promise<string> {
  const pkg = JSON.parse(await Deno.readTextFile(`${project}/tools/deno/package.json`));
  const v = pkg?.devDependencies?.["@deno/linux-x64-glibc"];
  if (typeof v !== "string") throw new Error(`${project}/tools/deno/package.json pins no Deno version`);
  return v;
}

/**
 * The plan of a submission: absolute paths, validated options, the pinned Deno, a fresh marker token.
 * InputError when the results root is outside the project's `results/` (the tasks may write only there).
 */
export async function planSlurm(
  specPath: string,
  experiment: string,
  resultsRoot: string,
  options: SlurmOptions,
): Promise<SlurmPlan> {
  const spec = await Deno.realPath(specPath).catch(() => abs(specPath));
  const root = abs(resultsRoot);
  if (root !== `${projectDir}/results` && !root.startsWith(`${projectDir}/results/`)) {
    throw new InputError(
      `--results: with --slurm the results root must be inside ${projectDir}/results (the tasks may write only there), got ${root}`,
    );
  }
  return {
    paths: {
      project: projectDir,
      spec,
      resultsRoot: root,
      experiment,
      slurmDir: `${root}/${experiment}/slurm`,
    },
    options,
    denoVersion: await pinnedDenoVersion(),
    markerToken: `${crypto.randomUUID()}`,
  };
}

/** Both scripts as files would hold them. */
export function scripts(plan: SlurmPlan): { sweep: string; followup: string } {
  return { sweep: sweepScript(plan), followup: followupScript(plan) };
}

/** InputError unless `sbatch` runs here (checked before anything is written). */
export async function requireSbatch(): Promise<void> {
  try {
    const out = await new Deno.Command("sbatch", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    if (!out.success) throw new Error("sbatch --version failed");
  } catch {
    throw new InputError(
      "--slurm: sbatch not found or not working here (not a Slurm submit host?); for a one-node cluster on " +
        "this machine: tools/slurm/local-cluster.sh start",
    );
  }
}

async function sbatch(args: string[]): Promise<string> {
  const out = await new Deno.Command("sbatch", {
    args: ["--parsable", ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const err = new TextDecoder().decode(out.stderr).trim();
  if (!out.success) throw new Error(`sbatch ${args.join(" ")} failed: ${err || `exit ${out.code}`}`);
  return new TextDecoder().decode(out.stdout).trim().split(";")[0];
}

/**
 * Writes marker, scripts and `slurm/runs.json` (each run's array task, from `owners`: run id → shard),
 * submits the array and its follow-up; returns the job ids and file paths.
 */
export async function submitSlurm(
  plan: SlurmPlan,
  owners: Map<string, number>,
): Promise<SlurmJobs & { sweepScript: string; followupScript: string; logs: string }> {
  const dir = plan.paths.slurmDir;
  const { sweep, followup } = scripts(plan);
  await Deno.mkdir(logDir(plan.paths), { recursive: true });
  await writeTextAtomic(markerPath(plan.paths), plan.markerToken);
  const sweepPath = `${dir}/sweep.sbatch`, followupPath = `${dir}/merge.sbatch`;
  await writeTextAtomic(sweepPath, sweep);
  await writeTextAtomic(followupPath, followup);
  const runs = [...owners].map(([id, task]) => ({ id, task }));
  await writeJsonAtomic(`${dir}/runs.json`, { tasks: plan.options.tasks, runs });
  const array = await sbatch([sweepPath]);
  const followupId = await sbatch([`--dependency=afterany:${array}`, followupPath]);
  const jobs: SlurmJobs = {
    array,
    followup: followupId,
    tasks: plan.options.tasks,
    submittedAt: new Date().toISOString(),
  };
  await writeJsonAtomic(`${dir}/jobs.json`, jobs);
  return { ...jobs, sweepScript: sweepPath, followupScript: followupPath, logs: logDir(plan.paths) };
}
