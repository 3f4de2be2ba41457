/**
 * `deno task spec-schema [OUT]` writes the experiment spec's JSON Schema (default
 * experiments/spec.schema.json; "-" prints it) so editors complete and check JSON specs that say
 * `"$schema": "./spec.schema.json"`.
 * @module
 */
import { specJsonSchema } from "../lib/spec/schema.ts";
import { writeTextAtomic } from "../lib/results/atomic.ts";

const out = Deno.args[0] ?? "experiments/spec.schema.json";
const text = JSON.stringify(specJsonSchema(), null, 2) + "\n";
if (out === "-") console.log(text.trimEnd());
else {
  await writeTextAtomic(out, text);
  console.log(`wrote ${out}`);
}
