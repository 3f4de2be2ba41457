/**
 * `deno task schemes [--json]`: lists every quantization scheme (preset pairs, forward labels, backward
 * labels) with a one-line description of what it quantizes and how. `deno task schemes NAME` shows one
 * name (an unknown name: the closest names and exit code 2).
 * @module
 */
import { parseErrorLine } from "../lib/cli/args.ts";
import { parseArgs } from "node:util";
import { BACKWARD, FORWARD, NAMED, schemeNames, schemePair } from "../lib/schemes/catalog.ts";
import { unknownNameMessage } from "../lib/spec/suggest.ts";
import { ATTENTION_RECIPES, attentionNames } from "../lib/attention/recipes.ts";

function main(args: string[]): void {
  let v, positionals;
  try {
    ({ values: v, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: "boolean" }, help: { type: "boolean" } },
    }));
  } catch (e) {
    console.error(`schemes: ${parseErrorLine(e)}`);
    Deno.exit(2);
  }
  if (v.help) {
    console.log("usage: deno task schemes [NAME] [--json]");
    return;
  }
  const pad = (s: string, n: number) => s.padEnd(n);
  if (positionals.length) {
    const name = positionals[0];
    const att = ATTENTION_RECIPES.find((r) => r.name === name);
    if (att) {
      console.log(
        v.json
          ? JSON.stringify(att, null, 2)
          : `attention ${att.name}${att.backward ? "" : " (inference only)"}: ${att.summary}`,
      );
      return;
    }
    const pair = schemePair(name);
    if (!pair) {
      console.error(
        `schemes: ${unknownNameMessage("scheme", name, [...schemeNames(), ...attentionNames()])}`,
      );
      Deno.exit(2);
    }
    const out = {
      name,
      fwd: pair.fwd,
      bwd: pair.bwd,
      forward: FORWARD[pair.fwd],
      backward: BACKWARD[pair.bwd],
    };
    console.log(
      v.json
        ? JSON.stringify(out, null, 2)
        : `${name} = --fwd ${pair.fwd} --bwd ${pair.bwd}\n  forward:  ${
          FORWARD[pair.fwd].description
        }\n  backward: ${BACKWARD[pair.bwd].description}`,
    );
    return;
  }
  if (v.json) {
    console.log(
      JSON.stringify(
        { named: NAMED, forward: FORWARD, backward: BACKWARD, attention: ATTENTION_RECIPES },
        null,
        2,
      ),
    );
    return;
  }
  console.log("Named schemes (--scheme NAME = --fwd F --bwd B):");
  for (const n of Object.values(NAMED)) {
    console.log(`  ${pad(n.name, 14)} ${pad(`${n.fwd} + ${n.bwd}`, 26)} ${n.description}`);
  }
  console.log("\nForward labels (--fwd; with --scheme: BF16 backward):");
  for (const h of Object.values(FORWARD)) console.log(`  ${pad(h.label, 20)} ${h.description}`);
  console.log(
    "  <label>+lm_head       any quantizing forward label, also applied to lm_head (f32 by default)",
  );
  console.log("\nBackward labels (--bwd; with --scheme: BF16 forward; rtn-* labels quantize both halves):");
  for (const h of Object.values(BACKWARD)) console.log(`  ${pad(h.label, 20)} ${h.description}`);
  console.log(
    "\nAttention recipes (--attention NAME on train/eval/sweep; spec `attention: [...]` crosses schemes):",
  );
  for (const r of ATTENTION_RECIPES) {
    console.log(`  ${pad(r.name, 20)} ${r.backward ? "" : "[inference only] "}${r.summary}`);
  }
}

main(Deno.args);
