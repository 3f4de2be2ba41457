/**
 * Summarises a PTQ sweep (experiments/ptq-ladder.ts): the δ table per recipe and bits (mean over runs, and per
 * run), the papers' orderings, the AdaRound convergence comparison (iterations for scale-aware AdaRound to
 * reach plain AdaRound's final reconstruction error, per layer), and δ against D/N per recipe.
 * `deno run -A tools/ptq_ladder_report.ts results/ptq-ladder`
 * @module
 */
import { parse } from "csv-parse/sync";

if (Deno.args.includes("--help")) {
  console.log(
    "usage: deno run -A tools/ptq_ladder_report.ts [DIR]\n" +
      "Markdown summary of a PTQ sweep's DIR/ptq.csv (default DIR: results/ptq-ladder): δ per recipe and bits,\n" +
      "the papers' orderings, AdaRound convergence, δ against D/N.",
  );
  Deno.exit(0);
}
if (Deno.args.length > 1 || Deno.args[0]?.startsWith("-")) {
  console.error(`ptq_ladder_report: expected one directory argument (see --help), got ${Deno.args.join(" ")}`);
  Deno.exit(2);
}
const dir = Deno.args[0] ?? "results/ptq-ladder";
let csvText: string;
try {
  csvText = Deno.readTextFileSync(`${dir}/ptq.csv`);
} catch (e) {
  console.error(`ptq_ladder_report: cannot read ${dir}/ptq.csv (${(e as Error).name}); run the PTQ sweep first`);
  Deno.exit(2);
}
const rows = parse(csvText, { columns: true }) as Record<string, string>[];
const runs = [...new Set(rows.map((r) => r.run_id))];
const key = (r: Record<string, string>) => `${r.recipe} w${r.w_bits}a${r.a_bits}`;
const by = new Map<string, Record<string, string>[]>();
for (const r of rows) by.set(key(r), [...(by.get(key(r)) ?? []), r]);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const delta = (recipe: string, bits: string) => {
  const rs = by.get(`${recipe} ${bits}`) ?? [];
  return rs.length ? mean(rs.map((r) => Number(r.delta))) : NaN;
};
console.log(`# δ per recipe (mean over ${runs.length} runs; per run in run order)\n`);
console.log(`| recipe | bits | mean δ | ${runs.map((_, i) => `run ${i + 1}`).join(" | ")} |`);
console.log(`|---|---|---|${runs.map(() => "---").join("|")}|`);
for (const [k, rs] of by) {
  const [recipe, bits] = k.split(" ");
  const per = runs.map((id) => rs.find((r) => r.run_id === id)?.delta);
  console.log(`| ${recipe} | ${bits} | ${mean(rs.map((r) => Number(r.delta))).toFixed(4)} | ${per.map((d) => (d ? Number(d).toFixed(4) : "–")).join(" | ")} |`);
}
console.log("\nruns: " + runs.map((id, i) => `${i + 1} = ${id} (N ${rows.find((r) => r.run_id === id)?.params}, D ${rows.find((r) => r.run_id === id)?.tokens})`).join("; "));
console.log("\n# orderings (mean δ; lower is better)\n");
for (const bits of ["w4a4", "w4a8"]) {
  const chk = (names: string[]) => {
    const ds = names.map((n) => delta(n, bits));
    const ok = ds.every((d, i) => i === 0 || d <= ds[i - 1]);
    return `${names.map((n, i) => `${n} ${ds[i].toFixed(4)}`).join(" ≥ ")}: ${ok ? "holds" : "does NOT hold"}`;
  };
  console.log(`- ${bits} min-max E2M1 → FPQ baseline → FPQ: ${chk(["minmax-e2m1", "fpq-baseline", "fpq"])}`);
  console.log(`- ${bits} HQ-DiT ladder: ${chk(["minmax-e2m1", "hqdit-rot", "hqdit-rot-fmt", "hqdit-rot-fmt-clip", "hqdit"])}`);
  console.log(`- ${bits} AdaRound: ${chk(["fp4dit-adaround", "fp4dit"])}`);
}
// AdaRound convergence from the per-job reports
let faster = 0, total = 0;
const its: number[] = [];
for (const id of runs) {
  for (const bits of ["w4a4", "w4a8"]) {
    const rd = (r: string) => {
      try {
        return JSON.parse(Deno.readTextFileSync(`${dir}/runs/${id}/ptq/${r}-${bits}/report.json`));
      } catch {
        return null;
      }
    };
    const sa = rd("fp4dit"), pl = rd("fp4dit-adaround");
    if (!sa || !pl) continue;
    for (let i = 0; i < sa.layers.length; i++) {
      const ts = sa.layers[i].notes?.adaroundTrace as number[] | undefined;
      const tp = pl.layers[i].notes?.adaroundTrace as number[] | undefined;
      if (!ts || !tp) continue;
      const target = tp[tp.length - 1];
      const k = ts.findIndex((e) => e <= target);
      total++;
      if (k >= 0 && k < tp.length - 1) {
        faster++;
        its.push(k * 10);
      }
    }
  }
}
console.log(
  `\n# AdaRound: scale-aware reached plain AdaRound's final reconstruction error earlier in ${faster} of ${total} layers` +
    (its.length ? ` (median at iteration ${its.sort((a, b) => a - b)[its.length >> 1]} of the run)` : ""),
);
console.log("\n# δ against D/N (per recipe, bits)\n");
for (const [k, rs] of by) {
  const pts = rs.map((r) => [Number(r.tokens) / Number(r.params), Number(r.delta)]).sort((a, b) => a[0] - b[0]);
  console.log(`- ${k}: ${pts.map(([x, d]) => `D/N ${x.toFixed(1)} → ${d.toFixed(4)}`).join(", ")}`);
}
