/**
 * Issue #15, item 1: every name in Object.getOwnPropertyNames(Object.prototype) (`constructor`,
 * `toString`, `__proto__`, …) fed to every name-taking spec field and CLI flag is refused with one line
 * (exit 2 for the CLIs). Spec fields and flags go through the same functions the tasks call, in process;
 * a handful of real subprocesses check the exit code and the single stderr line end to end.
 */
import assert from "node:assert/strict";
import { parseExperiment } from "../lib/spec/validate.ts";
import { expandExperiment } from "../lib/sweep/expand.ts";
import { InputError } from "../lib/spec/errors.ts";
import { configFromArgs } from "../cli/train.ts";
import { specFromArgs, UsageError } from "../cli/quantize.ts";
import { evalArgs } from "../cli/eval.ts";
import { parseOnly } from "../lib/sweep/filter.ts";
import { checkSourceName, loadSource } from "../lib/data/sources.ts";
import { elementFormat } from "../lib/formats/elements.ts";
import { specFor } from "../lib/formats/presets.ts";
import { schemePair } from "../lib/schemes/catalog.ts";
import { elementOf } from "../lib/schemes/reference.ts";

const NAMES = Object.getOwnPropertyNames(Object.prototype);
const repo = new URL("..", import.meta.url).pathname;

const base = {
  name: "proto-names",
  data: "sotu",
  models: [{ layers: 1, dModel: 32 }],
  schemes: ["fp32", "bf16"],
  tokens: { absolute: [640] },
  optimizer: { lr: { rule: "constant", value: 1e-3 } },
  batch: 2,
  context: 32,
  evalTokens: 64,
};

const operand = (element: string) => ({
  element,
  scale: { granularity: "none", type: "f32", rule: "absmax" },
  rounding: "nearest",
});

/** Every spec field that looks a name up, with the name put in. */
function specsWith(name: string): [string, unknown][] {
  return [
    ["data", { ...base, data: name }],
    ["data options", { ...base, data: `markov:${name}=1` }],
    ["schemes[i]", { ...base, schemes: [name] }],
    ["schemes[i].fwd", { ...base, schemes: [{ fwd: name, bwd: "fp32" }] }],
    ["schemes[i].bwd", { ...base, schemes: [{ fwd: "fp32", bwd: name }] }],
    ["inline element", { ...base, schemes: [{ name: "x", fwd: { x: operand(name) }, bwd: "fp32" }] }],
    ["include.scheme", { ...base, include: [{ scheme: name }] }],
    ["include.model", { ...base, include: [{ model: name }] }],
    ["exclude.scheme", { ...base, exclude: [{ scheme: [name] }] }],
    [
      "cost.speedups",
      {
        ...base,
        cost: { model: "measured", speedups: JSON.parse(`{${JSON.stringify(name)}: {"fwd": 2, "bwd": 2}}`) },
      },
    ],
    [
      "shapeRule key",
      JSON.parse(
        JSON.stringify({ ...base, shapeRule: {} }).replace(
          '"shapeRule":{}',
          `"shapeRule":{${JSON.stringify(name)}:1}`,
        ),
      ),
    ],
  ];
}

/** The one-line InputError of a spec, or a failure naming the field. */
async function refusal(field: string, name: string, raw: unknown): Promise<string> {
  try {
    await expandExperiment(parseExperiment(raw));
  } catch (e) {
    assert.ok(e instanceof InputError, `${field} = ${name}: not an InputError: ${(e as Error)?.stack}`);
    return e.message;
  }
  assert.fail(`${field} = ${JSON.stringify(name)} was accepted`);
}

Deno.test("spec fields: every Object.prototype name is refused with one line naming the field", async () => {
  let n = 0;
  for (const name of NAMES) {
    for (const [field, raw] of specsWith(name)) {
      const msg = await refusal(field, name, raw);
      assert.equal(msg.split("\n").length, 1, `${field} = ${name}: more than one line:\n${msg}`);
      assert.match(msg, /^invalid experiment spec: .+ → at \S/, `${field} = ${name}: ${msg}`);
      n++;
    }
  }
  assert.equal(n, NAMES.length * 11);
});

Deno.test("names a spec defines (experiment, model, scheme) may be prototype names: runs stay sane", async () => {
  let checked = 0;
  for (const name of NAMES) {
    const slug = /^[a-z0-9][a-z0-9._-]*$/.test(name), label = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(name);
    if (!label) continue;
    const model = slug ? name : "m";
    const spec = parseExperiment({
      ...base,
      name: slug ? name : "proto-names",
      models: [{ name: model, layers: 1, dModel: 32 }],
      schemes: [{ name, fwd: "bf16", bwd: "fp32" }, "fp32"],
      include: [{ scheme: name, model }],
      cost: { model: "measured", speedups: { [name]: { fwd: 2, bwd: 1 } } },
    });
    const { runs } = await expandExperiment(spec);
    assert.equal(runs.length, 1);
    assert.equal(runs[0].scheme, name);
    assert.equal(runs[0].model, model);
    assert.equal(runs[0].config.scheme.fwd, "bf16");
    checked++;
  }
  assert.ok(checked >= 7, `only ${checked} names are valid scheme names`);
});

Deno.test("library lookups: prototype names are unknown, never a hit", () => {
  for (const name of NAMES) {
    assert.equal(schemePair(name), undefined, name);
    assert.throws(() => elementFormat(name), /unknown element format/, name);
    assert.throws(() => specFor(name), /unknown format/, name);
    assert.throws(() => elementOf(operand(name) as never), /unknown element format/, name);
    assert.throws(() => checkSourceName(name), /unknown data source/, name);
    assert.throws(() => loadSource(name), /unknown data source/, name);
  }
});

/** The one-line message a parse function throws for args (InputError or quantize's UsageError). */
function flagRefusal(fn: () => unknown, what: string): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError || e instanceof UsageError, `${what}: ${(e as Error)?.stack}`);
    const m = (e as Error).message;
    assert.equal(m.split("\n").length, 1, `${what}: ${m}`);
    assert.doesNotMatch(m, /closest: *$|^train: /, what);
    return m;
  }
  assert.fail(`${what} was accepted`);
}

Deno.test("CLI flags (in process, the tasks' own parsers): every prototype name is refused in one line", () => {
  for (const name of NAMES) {
    for (const flag of ["--scheme", "--fwd", "--bwd", "--switch-to", "--data"]) {
      flagRefusal(() => configFromArgs([flag, name]), `train ${flag} ${name}`);
    }
    for (const flag of ["--format", "--clip", "--rounding", "--device"]) {
      const args = flag === "--format" ? [flag, name] : ["--format", "mxfp4", flag, name];
      flagRefusal(() => specFromArgs(args), `quantize ${args.join(" ")}`);
    }
    flagRefusal(() => parseOnly(`${name}=x`), `sweep --only ${name}=x`);
    flagRefusal(() => evalArgs([`--${name}`, "x"]), `eval --${name}`);
  }
});

async function run(args: string[]): Promise<{ code: number; err: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: repo,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: o.code, err: new TextDecoder().decode(o.stderr).trim() };
}

Deno.test("CLI flags (subprocesses): constructor / __proto__ / toString exit 2 with one line", async () => {
  const dir = await Deno.makeTempDir({ dir: `${repo}/results` });
  await Deno.writeTextFile(
    `${dir}/spec.json`,
    JSON.stringify({ ...base, schemes: [{ name: "x", fwd: { x: operand("constructor") }, bwd: "fp32" }] }),
  );
  try {
    const cases: [string, string[]][] = [
      ["train", ["run", "-A", "cli/train.ts", "--scheme", "constructor"]],
      ["train", ["run", "-A", "cli/train.ts", "--switch-to", "toString"]],
      ["quantize", ["run", "-A", "cli/quantize.ts", "--format", "constructor"]],
      ["schemes", ["run", "-A", "cli/schemes.ts", "__proto__"]],
      ["bench", ["run", "-A", "bench/main.ts", "constructor"]],
      ["results", ["run", "-A", "cli/results.ts", "x", "--format", "valueOf"]],
      ["sweep", ["run", "-A", "cli/sweep.ts", `${dir}/spec.json`, "--dry-run", "--no-probe"]],
    ];
    const out = await Promise.all(cases.map(([, a]) => run(a)));
    out.forEach((r, i) => {
      const [task, args] = cases[i];
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
      assert.equal(r.err.split("\n").length, 1, `${args.join(" ")}:\n${r.err}`);
      assert.ok(r.err.startsWith(`${task}: `) && !r.err.startsWith(`${task}: ${task}:`), r.err);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
