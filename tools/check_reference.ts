/**
 * Bit-identity check of the engine against the committed demo results (results/reference/quartet-tiny):
 * re-trains a few of its runs with the current code and compares run ids, final losses and the whole
 * training curve bit for bit (as the numbers round-trip through the CSV).
 *
 *   deno run -A tools/check_reference.ts [RUN_ID_PREFIX ...]
 *
 * Default runs: the smallest model at its smallest budget for bf16 (53.8k tokens), QuEST (FP4 forward) and
 * RTN-MXFP4 backward (215k tokens each) — about 40 CPU-seconds. In the sweep these runs branched off their
 * size's longest run (WSD prefix sharing); here each is trained alone, so the check also covers sharing.
 * Exits 1 and prints the first difference when anything differs.
 * @module
 */
import { parse } from "csv-parse/sync";
import { loadSpec } from "../lib/spec/load.ts";
import { expandExperiment } from "../lib/sweep/expand.ts";
import { train } from "../lib/engine/train.ts";

if (Deno.args.includes("--help")) {
  console.log(
    "usage: deno run -A tools/check_reference.ts [RUN_ID_PREFIX ...]\n" +
      "Re-trains demo runs of results/reference/quartet-tiny and compares ids, final losses and curves bit for bit\n" +
      "(default: one bf16, one QuEST and one RTN-MXFP4-backward run); exit 1 on any difference.",
  );
  Deno.exit(0);
}
const flag = Deno.args.find((a) => a.startsWith("-"));
if (flag) {
  console.error(`check_reference: unknown option ${flag} (see --help)`);
  Deno.exit(2);
}
const REF = new URL("../results/reference/quartet-tiny/", import.meta.url).pathname;
// One run per scheme, each trained alone although the sweep branched it off a longer run (WSD sharing).
const wanted = Deno.args.length
  ? Deno.args
  : ["bf16-L1d32-t53.8k-s0", "quest+bf16-L1d32-t215k-s0", "bf16+rtn-bwd-L1d32-t215k-s0"];

const rows = parse(Deno.readTextFileSync(`${REF}runs.csv`), { columns: true }) as Record<string, string>[];
const { spec } = await loadSpec(new URL("../experiments/quartet-tiny.ts", import.meta.url).pathname);
const { runs } = await expandExperiment(spec);
const missing = wanted.find((p) => !rows.some((r) => r.run_id.startsWith(p)));
if (missing !== undefined) {
  console.error(`check_reference: no reference run starts with ${missing}`);
  Deno.exit(2);
}
let bad = 0;
for (const prefix of wanted) {
  const ref = rows.find((r) => r.run_id.startsWith(prefix))!;
  const run = runs.find((r) => r.id === ref.run_id);
  if (!run) {
    console.log(`✖ ${ref.run_id}: the current code gives this grid point a different id (config changed)`);
    bad++;
    continue;
  }
  const res = await train(run.config);
  const problems: string[] = [];
  if (String(res.finalValLoss) !== ref.final_val_loss) {
    problems.push(`final_val_loss ${res.finalValLoss} ≠ ${ref.final_val_loss}`);
  }
  if (String(res.finalTrainLoss) !== ref.final_train_loss) {
    problems.push(`final_train_loss ${res.finalTrainLoss} ≠ ${ref.final_train_loss}`);
  }
  const curve = parse(Deno.readTextFileSync(`${REF}curves/${ref.run_id}.csv`), { columns: true }) as Record<
    string,
    string
  >[];
  const got = res.curve.filter((p) => Number.isFinite(p.trainLoss));
  if (got.length !== curve.filter((c) => c.train_loss !== "").length) problems.push(`curve length differs`);
  for (let i = 0; i < Math.min(got.length, curve.length); i++) {
    if (String(got[i].trainLoss) !== curve[i].train_loss) {
      problems.push(`curve step ${curve[i].step}: train_loss ${got[i].trainLoss} ≠ ${curve[i].train_loss}`);
      break;
    }
  }
  if (problems.length) {
    bad++;
    console.log(`✖ ${ref.run_id}: ${problems.join("; ")}`);
  } else {
    console.log(
      `✓ ${ref.run_id}: final_val_loss ${ref.final_val_loss}, ${got.length} curve points identical`,
    );
  }
}
Deno.exit(bad ? 1 : 0);
