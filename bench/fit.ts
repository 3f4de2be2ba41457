/**
 * `deno task bench fit [--points N] [--repeats R]`: time of a 4,500-start Chinchilla-form fit (Hoffmann
 * grid, both L-BFGS phases), reported against a single-start fit of the same data measured in the same run.
 * @module
 */
import { parseArgs } from "node:util";
import { chinchilla, lawData } from "../lib/fit/forms.ts";
import { chinchillaGrid, multiStart } from "../lib/fit/multistart.ts";
import { makeRng } from "../lib/fit/random.ts";

/** Runs the benchmark and prints its figures. */
export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { points: { type: "string", default: "42" }, repeats: { type: "string", default: "3" } },
  });
  const n = Number(values.points), repeats = Number(values.repeats);
  // Chinchilla-like truth with 1% noise, sizes 1M–300M, D/N 5–400.
  const rng = makeRng(1), N: number[] = [], D: number[] = [], L: number[] = [];
  for (let i = 0; i < n; i++) {
    const nn = 10 ** (6 + 2.5 * rng.next()), r = 10 ** (0.7 + 1.9 * rng.next());
    N.push(nn),
      D.push(nn * r),
      L.push((1.69 + 406.4 / nn ** 0.34 + 410.7 / (nn * r) ** 0.28) * Math.exp(0.01 * rng.normal()));
  }
  const data = lawData(N, D, L), grid = chinchillaGrid();
  const time = (starts: number[][]) => {
    const t0 = performance.now();
    const r = multiStart(chinchilla, data, { delta: 1e-3, starts });
    return { ms: performance.now() - t0, f: r.objective };
  };
  time(grid.slice(0, 50)); // warm-up: JIT
  const single: number[] = [], full: number[] = [];
  let objective = NaN;
  for (let k = 0; k < repeats; k++) {
    single.push(time([grid[2000]]).ms);
    const r = time(grid);
    full.push(r.ms), objective = r.f;
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  console.log(
    `chinchilla fit, ${n} points, ${grid.length} starts: ${med(full).toFixed(0)} ms (median of ${repeats})`,
  );
  console.log(
    `  single-start fit: ${med(single).toFixed(1)} ms; ratio ${(med(full) / med(single)).toFixed(0)}×`,
  );
  console.log(
    `  per start: ${(med(full) / grid.length).toFixed(3)} ms; best objective ${objective.toExponential(4)}`,
  );
  await Promise.resolve();
}

if (import.meta.main) await main(Deno.args);
