/**
 * `deno task demo` (`./fp4lab demo`): the main job, end to end.
 * 1. sweeps experiments/quartet-tiny.ts (resumes after an interruption; a finished sweep does no work),
 * 2. fits the Quartet law as the experiment's `demoFit` says (γ = 1; base constants on bf16 runs, then
 *    effN/effD per recipe) with bootstrap intervals,
 * 3. writes fit.json/fit.csv and the charts (SVG, PNG, offline HTML) next to the results.
 * @module
 */
import { runDemoSweep } from "../lib/sweep/demo.ts";
import { exitWithParent } from "../lib/cli/parent.ts";
import { taskMessage } from "../lib/spec/errors.ts";
import { plotExperiment } from "../lib/charts/suite.ts";
import { fitText, writeFit } from "../lib/fit/report.ts";
import { demoFit } from "../experiments/quartet-tiny.ts";

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(
    "usage: deno task demo   (or ./fp4lab demo)\n" +
      "  sweeps experiments/quartet-tiny.ts (resumable), fits the Quartet law, writes fit.json and the charts",
  );
  Deno.exit(0);
}
if (Deno.args.length) {
  console.error(`demo: unexpected argument "${Deno.args[0]}" (see --help)`);
  Deno.exit(2);
}
exitWithParent("demo");

const started = performance.now();
const ac = new AbortController();
const stop = () => {
  if (ac.signal.aborted) Deno.exit(130);
  console.error("\ndemo: stopping after the current step; run the command again to resume");
  ac.abort();
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

let sweep;
try {
  sweep = await runDemoSweep({ signal: ac.signal });
} catch (e) {
  if (ac.signal.aborted) Deno.exit(130);
  console.error(taskMessage("demo", (e as Error).message.split("\n")[0]));
  Deno.exit(2);
}
const { dir, summary } = sweep;
console.log(
  `\nsweep: ${summary.planned} runs: ${summary.skipped} already done, ${summary.finished} trained, ` +
    `${summary.diverged} diverged, ${summary.failed} failed (${summary.wallSeconds.toFixed(0)} s)`,
);

const plot = await plotExperiment(dir, { ...demoFit, fixed: { ...demoFit.fixed } });
const fitFiles = await writeFit(plot.fit, { path: dir, dir });
console.log(`\n${fitText(plot.fit)}`);

const secs = (performance.now() - started) / 1000;
console.log(`\nOutputs (${secs.toFixed(0)} s):`);
console.log(`  runs:    ${dir}/runs.csv  (one row per run; columns in the README)`);
console.log(`  curves:  ${dir}/curves/<run_id>.csv`);
console.log(`  fit:     ${fitFiles.json}, ${fitFiles.csv}`);
for (const [chart, files] of Object.entries(plot.files)) {
  console.log(`  chart:   ${files.png} (+ .svg .html .vl.json)  [${chart}]`);
}
Deno.exit(0);
