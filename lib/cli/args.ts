/**
 * Command-line parsing shared by the tasks: node's parseArgs with `--flag -1` accepted for negative
 * numbers (node would call it ambiguous), every parse error as one InputError line, and `--help`.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { InputError } from "../spec/errors.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** A negative number as a value: `-1`, `-0.5`, `-1e-3`, `-.5`, `-inf`. */
const NEGATIVE = /^-(\d|\.\d|inf(inity)?$|nan$)/i;

/** Rewrites `--name -1` into `--name=-1` for string options, so negative values parse. */
export function joinNegativeValues(args: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    const long = /^--([^=]+)$/.exec(a);
    const name = long?.[1] ??
      Object.entries(options).find(([, o]) => o.short !== undefined && `-${o.short}` === a)?.[0];
    const next = args[i + 1];
    if (
      name !== undefined && Object.hasOwn(options, name) && options[name].type === "string" &&
      next !== undefined && NEGATIVE.test(next)
    ) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/**
 * The one line a parseArgs error becomes: the first line of node's message without its "To specify …" hint,
 * then "(see --help)".
 */
export function parseErrorLine(e: unknown): string {
  return `${(e as Error).message.split("\n")[0].replace(/\s*To specify .*$/, "").trim()} (see --help)`;
}

/** node's parseArgs with its typed result; a parse error becomes one InputError line ({@link parseErrorLine}). */
export function parseTaskArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new InputError(parseErrorLine(e));
  }
}

/** Parsed flags and positionals, or `help: true` when --help / -h was given. */
export interface Parsed<V> {
  values: V;
  positionals: string[];
  help: boolean;
}

/**
 * Parses `args` strictly against `options` (a `help` boolean with short `h` is added); a parse error
 * becomes one InputError line ending in "(see --help)".
 */
export function parseFlags(args: string[], options: Options, allowPositionals = true): Parsed<
  Record<string, string | boolean | (string | boolean)[] | undefined>
> {
  const all: Options = { ...options, help: { type: "boolean", short: "h" } };
  try {
    const r = parseArgs({
      args: joinNegativeValues(args, all),
      options: all,
      strict: true,
      allowPositionals,
    });
    const { help, ...values } = r.values as Record<
      string,
      string | boolean | (string | boolean)[] | undefined
    >;
    return { values, positionals: r.positionals, help: help === true };
  } catch (e) {
    throw new InputError(parseErrorLine(e));
  }
}

/** Parses a number flag: finite, optionally an integer within [min, max]; InputError otherwise. */
export function numberFlag(
  name: string,
  text: string,
  opts: { integer?: boolean; min?: number; max?: number } = {},
): number {
  const v = text.trim() === "" ? NaN : Number(text);
  const { integer = false, min = -Infinity, max = Infinity } = opts;
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    const range = Number.isFinite(min) && Number.isFinite(max)
      ? ` in [${min}, ${max}]`
      : Number.isFinite(min)
      ? ` ≥ ${min}`
      : Number.isFinite(max)
      ? ` ≤ ${max}`
      : "";
    throw new InputError(`--${name} must be ${integer ? "an integer" : "a number"}${range} (got "${text}")`);
  }
  return v;
}

/**
 * A tool's command line (tools/*.ts): string flags given as name → default (undefined: none), parsed with
 * {@link parseFlags} (no positionals); `usage` on stdout and exit 0 for --help, then `read` turns the values
 * into the tool's settings (checking them, e.g. with {@link numberFlag}). Any error of the parse or of `read` is
 * one line `tool: message` on stderr, exit 2.
 */
export function toolArgs<T>(
  tool: string,
  usage: string,
  args: string[],
  flags: Record<string, string | undefined>,
  read: (values: Record<string, string | undefined>) => T,
): T {
  const options: Options = Object.fromEntries(
    Object.entries(flags).map((
      [k, d],
    ) => [k, d === undefined ? { type: "string" } : { type: "string", default: d }]),
  );
  try {
    const { values, help } = parseFlags(args, options, false);
    if (help) {
      console.log(usage);
      Deno.exit(0);
    }
    return read(values as Record<string, string | undefined>);
  } catch (e) {
    console.error(`${tool}: ${(e as Error).message.split("\n")[0]}`);
    Deno.exit(2);
  }
}
