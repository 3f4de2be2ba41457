/**
 * Power analysis of a sweep design for the two-stage Quartet fit: how wide will the bootstrap intervals of
 * α, β, effN and effD be, before any CPU is spent on training? Expands the spec (its real runs: N, trained
 * tokens, schemes, seeds), draws synthetic final losses from a given law with log-normal seed noise, fits
 * them exactly as the demo does (quartet form, baseline bf16, percentile bootstrap with seeds as
 * replicates) and repeats that over noise draws.
 *
 *   deno run -A tools/demo_power.ts SPEC --truth LAW.json [--noise 0.01] [--reps 8] [--bootstrap 100]
 *
 * `--replicates K` repeats every run K times (as if every cell had K seeds; K× the tokens), to find the
 * budget a target needs. `--fix NAME=V[,NAME=V]` holds base parameters of the fit (θ names), as `deno task fit --fix` does.
 * LAW.json: `{"params": {A, alpha, B, beta, E, gamma}, "effN": {label: v}, "effD": {label: v}}` (a fit.json
 * written by `deno task fit --form quartet` has these keys, so a fit of real runs can be the truth).
 * Prints, per noise draw, the high/low ratio of each 95 % interval and, at the end, the medians and the
 * fraction of draws that meet the demo's targets (α, β within 3×; every effN and effD within 2×), with the
 * planner's token count (alone and with WSD prefix sharing). Synthetic: a prediction, not a measurement.
 * @module
 */
import { loadSpec } from "../lib/spec/load.ts";
import { expandExperiment } from "../lib/sweep/expand.ts";
import { sharedTokens } from "../lib/sweep/sharing.ts";
import { bootstrapCI, executeFit, makeRng, planFit, type Run } from "../lib/fit/mod.ts";

const usage = "usage: deno run -A tools/demo_power.ts SPEC --truth LAW.json [--noise S] [--reps R] " +
  "[--bootstrap B] [--fix gamma=1] [--replicates K]";
const args = [...Deno.args];
if (args.includes("--help") || args.includes("-h")) {
  console.log(usage);
  Deno.exit(0);
}
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const fail = (m: string): never => {
  console.error(`demo_power: ${m}`);
  Deno.exit(2);
};
const truthPath = opt("--truth", "");
const noise = Number(opt("--noise", "0.01"));
const reps = Number(opt("--reps", "8"));
const samples = Number(opt("--bootstrap", "100"));
const fixArg = opt("--fix", "");
const copies = Number(opt("--replicates", "1"));
const fixed: Record<string, number> = Object.fromEntries(
  fixArg ? fixArg.split(",").map((kv) => [kv.split("=")[0], Number(kv.split("=")[1])]) : [],
);
if (args.length !== 1 || !truthPath) fail(`need SPEC and --truth (${usage})`);
if (!(noise >= 0) || !(reps >= 1) || !(samples >= 10) || !(Number.isInteger(copies) && copies >= 1)) {
  fail("--noise ≥ 0, --reps ≥ 1, --bootstrap ≥ 10, --replicates a positive integer");
}

const truth = JSON.parse(await Deno.readTextFile(truthPath)) as {
  params: Record<string, number>;
  effN?: Record<string, number>;
  effD?: Record<string, number>;
};
const { spec } = await loadSpec(args[0]);
const { runs: planned } = await expandExperiment(spec);
const tok = sharedTokens(planned);
const { A, alpha, B, beta, E, gamma } = truth.params;
const law = (N: number, D: number) => (A / N ** alpha + B / D ** beta) ** gamma + E;

const ratio = (iv: [number, number] | undefined) => (iv && iv[0] > 0 ? iv[1] / iv[0] : Infinity);
const rows: Record<string, number>[] = [];
for (let rep = 0; rep < reps; rep++) {
  const rng = makeRng(1000 + rep);
  const runs: Run[] = Array.from({ length: copies }, () => planned).flat().map((p, k) => {
    const s = p.schemeInfo;
    const eN = s.fwd === "bf16" ? 1 : truth.effN?.[s.fwd] ?? fail(`--truth has no effN for ${s.fwd}`);
    const eD = s.bwd === "bf16" ? 1 : truth.effD?.[s.bwd] ?? fail(`--truth has no effD for ${s.bwd}`);
    const L = law(p.nonEmbeddingParams * eN, p.trainTokens * eD) * Math.exp(noise * rng.normal());
    return {
      id: `${p.id}#${k}`,
      N: p.nonEmbeddingParams,
      D: p.trainTokens,
      L,
      fwd: s.fwd,
      bwd: s.bwd,
      bits: [],
      fwdBits: s.fwdBits,
      bwdBits: s.bwdBits,
    };
  });
  const plan = planFit(runs, { form: "quartet", baseline: "bf16", fixed });
  const fit = executeFit(plan);
  const ci = bootstrapCI(plan, fit, { samples, seed: 1 + rep });
  const row: Record<string, number> = {
    alpha: ratio(ci.params.alpha),
    beta: ratio(ci.params.beta),
    gamma: ratio(ci.params.gamma),
  };
  for (const [k, iv] of Object.entries(ci.effN)) row[`effN ${k}`] = ratio(iv);
  for (const [k, iv] of Object.entries(ci.effD)) row[`effD ${k}`] = ratio(iv);
  rows.push(row);
  console.log(
    `draw ${rep}: ` + Object.entries(row).map(([k, v]) => `${k} ${v.toPrecision(3)}×`).join(", ") +
      `  (α̂ ${fit.params.alpha.toPrecision(3)}, β̂ ${fit.params.beta.toPrecision(3)})`,
  );
}
const keys = Object.keys(rows[0]);
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const meets = rows.filter((r) =>
  keys.every((k) => (k === "gamma" ? true : k === "alpha" || k === "beta" ? r[k] <= 3 : r[k] <= 2))
).length;
console.log(
  `\n${planned.length} runs × ${copies} replicate(s): ${tok.alone * copies} tokens alone, ` +
    `${tok.shared * copies} with WSD sharing; noise σ ${noise}, ` +
    `${reps} draws × ${samples} resamples (synthetic)`,
);
console.log(`median high/low: ${keys.map((k) => `${k} ${median(rows.map((r) => r[k])).toPrecision(3)}×`).join(", ")}`);
console.log(`draws meeting the targets (α, β ≤ 3×; effN, effD ≤ 2×): ${meets}/${reps}`);
