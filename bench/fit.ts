/**
 * `deno task bench fit [--repeats R] [--compare]`: wall and CPU time of a 4,500-start Chinchilla-form fit
 * (Hoffmann grid, screened, then polished) on 240 points (12 sizes × 20 token ratios) and on 42 points
 * (6 × 7), each alone and with the leave-largest-model-out refit (warm-started from the full optimum).
 * `--compare` also times the unscreened grid (every start explored to 120 iterations) and the cold refit
 * (the whole grid again), the algorithm before screening and warm starts. Prints CPU model and load.
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { fitRuns } from "../lib/fit/execute.ts";
import { leaveLargestOut } from "../lib/fit/extrapolate.ts";
import { chinchilla, chinchillaGrid } from "../lib/fit/forms/chinchilla.ts";
import { runData } from "../lib/fit/law.ts";
import { multiStart } from "../lib/fit/multistart.ts";
import { makeRng } from "../lib/fit/random.ts";
import type { Run } from "../lib/fit/types.ts";

/** Chinchilla-like truth (E 1.69, A 406.4, α 0.34, B 410.7, β 0.28) with 1% log-normal noise. */
function dataset(sizes: number, ratios: number): Run[] {
  const rng = makeRng(1), runs: Run[] = [];
  for (let i = 0; i < sizes; i++) {
    const N = Math.round(1e6 * 300 ** (i / (sizes - 1)));
    for (let j = 0; j < ratios; j++) {
      const D = N * 5 * 80 ** (j / (ratios - 1));
      const L = (1.69 + 406.4 / N ** 0.34 + 410.7 / D ** 0.28) * Math.exp(0.01 * rng.normal());
      runs.push({ id: `n${i}r${j}`, N, D, L, fwd: "", bwd: "", bits: [] });
    }
  }
  return runs;
}

function cpuModel(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.*)/);
    return `${info?.[1] ?? "unknown CPU"}, ${navigator.hardwareConcurrency} logical CPUs`;
  } catch {
    return "unknown CPU";
  }
}

/** Runs the benchmark and prints its figures. */
export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { repeats: { type: "string", default: "3" }, compare: { type: "boolean", default: false } },
  });
  const repeats = Number(values.repeats);
  const load = () => Deno.loadavg().map((v) => v.toFixed(2)).join(" ");
  console.log(`CPU: ${cpuModel()}; load average before: ${load()}`);
  const time = (f: () => unknown) => {
    const c0 = process.cpuUsage(), t0 = performance.now();
    f();
    const c = process.cpuUsage(c0);
    return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
  };
  const med = (v: { wall: number; cpu: number }[]) => {
    const w = v.map((x) => x.wall).sort((a, b) => a - b), c = v.map((x) => x.cpu).sort((a, b) => a - b);
    return `${w[Math.floor(w.length / 2)].toFixed(2)} s wall, ${
      c[Math.floor(c.length / 2)].toFixed(2)
    } CPU-s`;
  };
  fitRuns(dataset(4, 4), { form: "chinchilla" }); // warm-up: JIT
  for (const [sizes, ratios] of [[12, 20], [6, 7]]) {
    const runs = dataset(sizes, ratios), opts = { form: "chinchilla" };
    const fit: number[] = [], alone: { wall: number; cpu: number }[] = [], both: typeof alone = [];
    let objective = NaN, extrap = NaN;
    for (let k = 0; k < repeats; k++) {
      alone.push(time(() => (objective = fitRuns(runs, opts).objective)));
      both.push(time(() => {
        const full = fitRuns(runs, opts);
        extrap = leaveLargestOut(runs, opts, full)?.meanAbsRelError ?? NaN;
      }));
    }
    fit.push(objective);
    console.log(
      `chinchilla fit, ${runs.length} points, ${chinchillaGrid().length} starts (median of ${repeats}): ` +
        `${med(alone)}; with leave-largest-out refit: ${med(both)}`,
    );
    console.log(
      `  objective ${objective.toExponential(6)}, extrapolation mean |rel. error| ${extrap.toFixed(5)}`,
    );
    if (values.compare) {
      const ctx = { baseline: "bf16", bitsColumns: [], labels: [] };
      const data = runData(runs, ctx);
      let f0 = NaN;
      const t = time(() => {
        f0 = multiStart(chinchilla, data, {
          delta: 1e-3,
          starts: chinchillaGrid(),
          theta: new Float64Array(5),
          positive: [1, 3],
          screen: false,
        }).objective;
      });
      const cold = time(() => leaveLargestOut(runs, opts));
      console.log(
        `  unscreened grid (every start to 120 iterations): ${t.wall.toFixed(2)} s wall, ${
          t.cpu.toFixed(2)
        } ` +
          `CPU-s, objective ${f0.toExponential(6)}; cold refit (whole grid): ${cold.wall.toFixed(2)} s wall`,
      );
    }
  }
  console.log(`load average after: ${load()}`);
  await Promise.resolve();
}

if (import.meta.main) await main(Deno.args);
