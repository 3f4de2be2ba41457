/**
 * `deno task quantize --format NAME [--hadamard N] [--clip absmax|quest|quest-round]
 *   [--rounding nearest|stochastic --seed S] [--device gpu|cpu] [--codes]`
 *
 * Reads whitespace-separated numbers on stdin and writes the dequantized f32 values one per line
 * (shortest round-trip decimal). With `--codes`, each line is `value 0xCODE`, followed by one line per
 * scale group `scale INDEX VALUE 0xCODE` (and `tensor_scale VALUE` for NVFP4). Bad input: one-line
 * error naming the problem, exit code 2.
 * @module
 */
import { parseArgs } from "node:util";
import { joinNegativeValues, parseErrorLine } from "../lib/cli/args.ts";
import { exitWithParent } from "../lib/cli/parent.ts";
import { formatNames, specFor, withClip } from "../lib/formats/presets.ts";
import { HADAMARD_SIZES } from "../lib/formats/hadamard.ts";
import { shortestF32 } from "../lib/formats/f32.ts";
import { NAN_CODE } from "../lib/formats/quantize.ts";
import { quantizeTensor, type QuantResult, type QuantSpec } from "../lib/formats/scaling.ts";

/** A user error: printed as one line, exit code 2. */
export class UsageError extends Error {}

const NUM = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const SPECIAL = new Map<string, number>([["nan", NaN], ["inf", Infinity], ["infinity", Infinity]]);

/** Parses whitespace-separated numbers (decimal, exponent, inf/infinity/nan with optional sign). */
export function parseNumbers(text: string): Float32Array {
  const toks = text.split(/\s+/).filter((t) => t.length > 0);
  const out = new Float32Array(toks.length);
  toks.forEach((t, i) => {
    if (NUM.test(t)) out[i] = Number(t);
    else {
      const neg = t.startsWith("-");
      const key = t.replace(/^[+-]/, "").toLowerCase();
      const v = SPECIAL.get(key);
      if (v === undefined) throw new UsageError(`input token ${i + 1} "${t}" is not a number`);
      out[i] = neg ? -v : v;
    }
  });
  return out;
}

/** Builds the QuantSpec from CLI options (throws UsageError). */
export function specFromArgs(args: string[]): { spec: QuantSpec; device: "gpu" | "cpu"; codes: boolean } {
  let v;
  try {
    v = parseArgs({
      args: joinNegativeValues(args, { seed: { type: "string" }, "sign-seed": { type: "string" } }),
      options: {
        format: { type: "string" },
        hadamard: { type: "string" },
        clip: { type: "string", default: "absmax" },
        rounding: { type: "string", default: "nearest" },
        seed: { type: "string", default: "0" },
        "sign-seed": { type: "string" },
        device: { type: "string", default: "gpu" },
        codes: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new UsageError(parseErrorLine(e));
  }
  if (!v.format) throw new UsageError(`--format is required; choose one of: ${formatNames().join(", ")}`);
  let spec: QuantSpec;
  try {
    spec = specFor(v.format);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!["absmax", "quest", "quest-round"].includes(v.clip!)) {
    throw new UsageError(`unknown --clip "${v.clip}"; choose absmax, quest or quest-round`);
  }
  try {
    spec = withClip(spec, v.clip as "absmax" | "quest" | "quest-round");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (v.rounding !== "nearest" && v.rounding !== "stochastic") {
    throw new UsageError(`unknown --rounding "${v.rounding}"; choose nearest or stochastic`);
  }
  spec.rounding = v.rounding;
  const seed = Number(v.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new UsageError(`--seed "${v.seed}" is not a u32 integer`);
  }
  spec.seed = seed;
  if (v.hadamard !== undefined) {
    const n = Number(v.hadamard);
    if (!HADAMARD_SIZES.includes(n)) {
      throw new UsageError(`--hadamard "${v.hadamard}" must be one of ${HADAMARD_SIZES.join(", ")}`);
    }
    let signSeed: number | undefined;
    if (v["sign-seed"] !== undefined) {
      signSeed = Number(v["sign-seed"]);
      if (!Number.isInteger(signSeed) || signSeed < 0 || signSeed > 0xffffffff) {
        throw new UsageError(`--sign-seed "${v["sign-seed"]}" is not a u32 integer`);
      }
    }
    spec.hadamard = { size: n, signSeed };
  }
  if (v.device !== "gpu" && v.device !== "cpu") {
    throw new UsageError(`unknown --device "${v.device}"; choose gpu or cpu`);
  }
  return { spec, device: v.device, codes: v.codes! };
}

/** Checks that the input length fits the block and Hadamard sizes (throws UsageError). */
export function checkLength(n: number, spec: QuantSpec): void {
  const b = spec.scale.granularity === "block" ? spec.scale.block! : 1;
  if (n % b !== 0) throw new UsageError(`input length ${n} is not a multiple of the block size ${b}`);
  const h = spec.hadamard?.size ?? 1;
  if (n % h !== 0) throw new UsageError(`input length ${n} is not a multiple of the hadamard size ${h}`);
}

/** Formats a result as the CLI prints it. */
export function formatResult(r: QuantResult, spec: QuantSpec, codes: boolean): string {
  const lines: string[] = [];
  const hex = (c: number) => (c === NAN_CODE ? "nan" : `0x${c.toString(16)}`);
  for (let i = 0; i < r.values.length; i++) {
    lines.push(codes ? `${shortestF32(r.values[i])} ${hex(r.codes[i])}` : shortestF32(r.values[i]));
  }
  if (codes && spec.scale.granularity !== "none") {
    for (let g = 0; g < r.scales.length; g++) {
      lines.push(`scale ${g} ${shortestF32(r.scales[g])} ${hex(r.scaleCodes[g])}`);
    }
    if (spec.scale.tensorScale) lines.push(`tensor_scale ${shortestF32(r.tensorScale)}`);
  }
  return lines.length ? lines.join("\n") + "\n" : "";
}

/** Runs the CLI on arguments and input text; returns what to print. Throws UsageError on bad input. */
export async function runQuantize(args: string[], input: string): Promise<string> {
  const { spec, device, codes } = specFromArgs(args);
  const x = parseNumbers(input);
  checkLength(x.length, spec);
  if (x.length === 0) return "";
  let r: QuantResult;
  if (device === "cpu") r = quantizeTensor(x, spec);
  else {
    const { quantizeGpu } = await import("../kernels/formats/run.ts");
    r = await quantizeGpu(x, spec, { codes });
  }
  return formatResult(r, spec, codes);
}

const USAGE = `usage: echo "0.1 -2.7 3.3" | deno task quantize --format NAME [--hadamard N]
  [--clip absmax|quest|quest-round] [--rounding nearest|stochastic --seed S] [--sign-seed S]
  [--device gpu|cpu] [--codes]
Quantizes the whitespace-separated numbers on stdin; prints the dequantized values one per line.
Formats: ${formatNames().join(", ")}`;

if (import.meta.main) {
  exitWithParent("quantize");
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  try {
    const input = await new Response(Deno.stdin.readable).text();
    const out = await runQuantize(Deno.args, input);
    await Deno.stdout.write(new TextEncoder().encode(out));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`quantize: ${e.message}`);
      Deno.exit(2);
    }
    console.error(`quantize: ${(e as Error).message.split("\n")[0]}`);
    Deno.exit(1);
  }
}
