/**
 * `deno task spec-schema [OUT]` writes the experiment spec's JSON Schema (default
 * experiments/spec.schema.json; "-" prints it) so editors complete and check JSON specs that say
 * `"$schema": "./spec.schema.json"`. `--help` prints the usage; bad input is one line, exit 2.
 * @module
 */
import { specJsonSchema } from "../lib/spec/schema.ts";
import { writeTextAtomic } from "../lib/results/atomic.ts";
import { parseFlags } from "../lib/cli/args.ts";
import { InputError } from "../lib/spec/errors.ts";
import { runTask } from "../lib/cli/task.ts";

const USAGE = "usage: deno task spec-schema [OUT]   (default experiments/spec.schema.json; - prints it)";

async function main(args: string[]): Promise<number> {
  const { positionals, help } = parseFlags(args, {});
  if (help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new InputError(`expected at most one OUT (see --help)`);
  const out = positionals[0] ?? "experiments/spec.schema.json";
  const text = JSON.stringify(specJsonSchema(), null, 2) + "\n";
  if (out === "-") {
    console.log(text.trimEnd());
    return 0;
  }
  try {
    await writeTextAtomic(out, text);
  } catch (e) {
    const why = e instanceof Deno.errors.NotCapable
      ? "this task may only write under experiments/; give a path there, or - to print it"
      : (e as Error).message.split("\n")[0];
    throw new InputError(`cannot write ${out}: ${why}`);
  }
  console.log(`wrote ${out}`);
  return 0;
}

await runTask("spec-schema", () => main(Deno.args));
