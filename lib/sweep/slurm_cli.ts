/**
 * The two Slurm entry points of `deno task sweep` (cli/sweep.ts keeps only the flag parsing):
 * `--slurm` (write, print or submit the scripts) and `status EXP`.
 * @module
 */
import { ResultsDir } from "../results/store.ts";
import { closestExperiments } from "../results/experiments.ts";
import { InputError } from "../spec/errors.ts";
import type { Experiment } from "../spec/schema.ts";
import { expandExperiment } from "./expand.ts";
import { assignShards } from "./shard.ts";
import { parseSlurmFlags, type SlurmFlags } from "./slurm.ts";
import { allDone, statusText, sweepStatus } from "./slurm_status.ts";
import { planSlurm, requireSbatch, scripts, submitSlurm } from "./slurm_submit.ts";

/** `deno task sweep SPEC --slurm …`: prints the scripts (dryRun) or submits them; the exit code. */
export async function slurmCommand(opts: {
  specPath: string;
  spec: Experiment;
  resultsRoot: string;
  flags: SlurmFlags;
  dryRun: boolean;
}): Promise<number> {
  const { runs } = await expandExperiment(opts.spec);
  const options = parseSlurmFlags(opts.flags, runs.length);
  const plan = await planSlurm(opts.specPath, opts.spec.name, opts.resultsRoot, options);
  const owners = assignShards(runs, options.tasks);
  const perTask = Array.from(
    { length: options.tasks },
    (_, i) => [...owners.values()].filter((t) => t === i + 1).length,
  );
  const p = plan.paths;
  if (opts.dryRun) {
    const s = scripts(plan);
    console.log(`# ${p.slurmDir}/sweep.sbatch (submitted first)\n${s.sweep}`);
    console.log(
      `# ${p.slurmDir}/merge.sbatch (submitted with --dependency=afterany:<array job id>)\n${s.followup}`,
    );
    console.log(
      `# dry run: nothing written or submitted; ${runs.length} runs over ${options.tasks} tasks (${
        perTask.join(" + ")
      })`,
    );
    return 0;
  }
  await requireSbatch();
  const r = await submitSlurm(plan, owners);
  console.log(
    [
      `${opts.spec.name}: submitted ${runs.length} runs as array job ${r.array} (${options.tasks} tasks: ` +
      `${perTask.join(" + ")} runs) and follow-up job ${r.followup} (merge, fit, plot; afterany:${r.array})`,
      `  scripts: ${r.sweepScript}, ${r.followupScript}`,
      `  logs:    ${r.logs}/sweep-${r.array}_<task>.out, ${r.logs}/merge-${r.followup}.out`,
      `  results: ${p.resultsRoot}/${p.experiment}/ (runs.csv, fit.json, charts/ when the follow-up is done)`,
      `  watch:   deno task sweep status ${p.experiment}${
        p.resultsRoot.endsWith("/results") ? "" : ` --results ${p.resultsRoot}`
      }`,
    ].join("\n"),
  );
  return 0;
}

/** The results directory of `deno task sweep status EXP` (a name under the root, or a path). */
export async function statusDir(root: string, name: string): Promise<ResultsDir> {
  const paths = [`${root.replace(/\/+$/, "")}/${name}`, ...(name.includes("/") ? [name] : [])];
  for (const path of paths.map((p) => p.replace(/\/+$/, ""))) {
    try {
      if ((await Deno.stat(path)).isDirectory) return new ResultsDir(path);
    } catch { /* not there */ }
  }
  throw new InputError(`status: no results for "${name}" in ${root}/` + await closestExperiments(root, name));
}

/** `deno task sweep status EXP`: prints the status; 0 when every run is done, 1 otherwise. */
export async function statusCommand(root: string, name: string): Promise<number> {
  const dir = await statusDir(root, name);
  const s = await sweepStatus(dir);
  console.log(statusText(s));
  return allDone(s) ? 0 : 1;
}
