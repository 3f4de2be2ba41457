/**
 * Writes the DiT's standard validation tuples (the ones training reports and `deno task ptq` measures δ on:
 * held-out MNIST digits, t on an even grid over [0, 999], seeded noise) as an inputs file for
 * `deno task eval --checkpoint DIR --inputs FILE` and `tools/dit_check.py`.
 * `deno run -A tools/dit_val_inputs.ts FILE.safetensors [COUNT]` (COUNT default 1000).
 * @module
 */
import { writeEvalInputs } from "../lib/models/dit/checkpoint.ts";
import { mnistValidationInputs, VAL_COUNT } from "../lib/models/dit/evaluate.ts";

const [file, countText] = Deno.args;
if (!file || file === "--help" || file === "-h") {
  console.log("usage: deno run -A tools/dit_val_inputs.ts FILE.safetensors [COUNT]");
  Deno.exit(file ? 0 : 2);
}
const count = countText === undefined ? VAL_COUNT : Number(countText);
if (!Number.isInteger(count) || count < 2 || count > VAL_COUNT) {
  console.error(`dit_val_inputs: COUNT must be an integer in 2..${VAL_COUNT} (got "${countText}")`);
  Deno.exit(2);
}
writeEvalInputs(file, mnistValidationInputs(count));
console.log(`wrote ${file}: ${count} validation tuples`);
