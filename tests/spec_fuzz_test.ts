/**
 * Issue #15, item 7: a seeded fuzz test of spec validation. A few hundred mutated specs (wrong types,
 * non-finite and extreme numbers, prototype names, unknown keys and options, huge grids, long names,
 * deleted and repeated entries, and every mutation the issue lists) go through parseExperiment and
 * expandExperiment in process. Each is either refused with an InputError whose problems each name a
 * path, or accepted and expands to runs whose every number is finite and in range.
 */
import assert from "node:assert/strict";
import { parseExperiment } from "../lib/spec/validate.ts";
import { expandExperiment, type PlannedRun } from "../lib/sweep/expand.ts";
import { InputError } from "../lib/spec/errors.ts";
import { LIMITS } from "../lib/spec/schema.ts";
import type { ModelConfig } from "../lib/engine/api.ts";

/** Specs the test generates (reported in the closing note of issue #15). */
export const FUZZ_SPECS = 400;
const SEED = 15;

/** mulberry32: a small seeded generator, so every run of the test tries the same specs. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const operand = (element: string) => ({
  element,
  scale: { granularity: "block", block: 32, type: "e8m0", rule: "ocp" },
  rounding: "nearest",
});

/** Valid starting points covering the spec's features. */
const BASES: Record<string, unknown>[] = [
  {
    name: "fuzz-a",
    data: "sotu",
    models: [{ layers: 1, dModel: 32 }, { name: "small", params: 30000 }],
    schemes: ["fp32", "quartet", { fwd: "bf16", bwd: "fp32" }],
    tokens: { perParam: [1, 2] },
    seeds: [0, 1],
    optimizer: { lr: { rule: "inverse-params", base: 3e-3, baseParams: 1e4, min: 1e-4, max: 1e-2 } },
    batch: 2,
    context: 32,
    evalTokens: 64,
  },
  {
    name: "fuzz-b",
    data: "markov:k=2,v=8,seed=3,tokens=65536",
    models: [{ layers: 2, dModel: 64, heads: 2 }],
    schemes: ["bf16", { name: "inl", fwd: { x: operand("e2m1"), w: operand("e2m1") }, bwd: "bf16" }],
    tokens: { absolute: [1280, 2560] },
    optimizer: { lr: { rule: "constant", value: 1e-3 } },
    batch: 4,
    context: 64,
    evalTokens: 128,
    include: [{ scheme: ["bf16", "inl"] }],
    exclude: [{ tokens: 2560, scheme: "inl" }],
    cost: { model: "measured", speedups: { inl: { fwd: 2, bwd: 1.5 } } },
  },
  {
    name: "fuzz-c",
    data: "english",
    models: [{ params: 2e5 }, { params: 5e4 }],
    shapeRule: { aspect: 16, headDim: 16 },
    schemes: ["quest", "rtn-mxfp4"],
    tokens: { perParam: [0.5], absolute: [640] },
    seeds: [7],
    optimizer: { lr: { rule: "inverse-params", base: 1e-3, baseParams: 1e5, power: 0.5 } },
    batch: 1,
    context: 32,
    evalTokens: 32,
    evalEvery: 5,
    checkpointEvery: 0,
  },
];

const PROTO = Object.getOwnPropertyNames(Object.prototype);
const WRONG = [null, "x", "", true, [], {}, [1], { a: 1 }, 1, -1, 0];
const EXTREME = [
  0,
  -1,
  -0,
  0.5,
  1e-320,
  1e308,
  -1e308,
  Infinity,
  -Infinity,
  NaN,
  2 ** 32,
  2 ** 32 - 1,
  2 ** 53,
  1e6,
  4294967296,
  33,
];

type Path = (string | number)[];
type Json = Record<string | number, unknown>;

/** Every [path, value] of a spec (objects and arrays included). */
function entries(v: unknown, path: Path = [], out: [Path, unknown][] = []): [Path, unknown][] {
  out.push([path, v]);
  if (v && typeof v === "object") {
    for (const [k, c] of Object.entries(v)) entries(c, [...path, Array.isArray(v) ? Number(k) : k], out);
  }
  return out;
}

function setAt(root: Json, path: Path, value: unknown): void {
  let o = root as Json;
  for (const k of path.slice(0, -1)) o = o[k] as Json;
  Object.defineProperty(o, path.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
}

function deleteAt(root: Json, path: Path): void {
  let o = root as Json;
  for (const k of path.slice(0, -1)) o = o[k] as Json;
  if (Array.isArray(o)) o.splice(Number(path.at(-1)), 1);
  else delete o[path.at(-1)!];
}

/** The named mutations; each changes `s` in place (r: the generator). */
const MUTATIONS: Record<string, (s: Json, r: () => number) => void> = {
  wrongType(s, r) {
    const es = entries(s).filter(([p]) => p.length > 0);
    const [p] = pick(es, r);
    setAt(s, p, pick(WRONG, r));
  },
  extremeNumber(s, r) {
    const es = entries(s).filter(([p, v]) => p.length > 0 && typeof v === "number");
    const [p] = pick(es, r);
    setAt(s, p, pick(EXTREME, r));
  },
  protoName(s, r) {
    const es = entries(s).filter(([p, v]) => p.length > 0 && typeof v === "string");
    const [p] = pick(es, r);
    setAt(s, p, pick(PROTO, r));
  },
  protoKey(s, r) {
    const es = entries(s).filter(([, v]) => v && typeof v === "object" && !Array.isArray(v));
    const [p] = pick(es, r);
    setAt(s, [...p, pick(PROTO, r)], pick([1, "x", { fwd: 1, bwd: 1 }], r));
  },
  unknownKey(s, r) {
    const es = entries(s).filter(([, v]) => v && typeof v === "object" && !Array.isArray(v));
    setAt(s, [...pick(es, r)[0], pick(["bogus", "Name", "seed", "dmodel", "steps"], r)], 1);
  },
  unknownDataOption(s, r) {
    s.data = pick([
      "sotu:extra",
      "markov:tokens=-1",
      "markov:tokens=3e9",
      "markov:foo=1",
      "markov:k=9",
      "markov:v=2,k=4,v=3",
      "markov:conc=0",
      "markov:conc=Infinity",
      "markov:seed=4294967296",
      "markov:",
      "markov:k",
      `markov:${pick(PROTO, r)}=1`,
      "markov:k=1,v=2,tokens=2000",
      "brown",
      "moby-dick:",
      "Sotu",
    ], r);
  },
  hugeGrid(s, r) {
    // 2·10^5 to 2.5·10^7 grid points from short axes (seeds × budgets), as a real typo would make them.
    const seeds = pick([500, 2000, 5000], r), budgets = pick([400, 1000, 5000], r);
    s.seeds = Array.from({ length: seeds }, (_, i) => i);
    s.tokens = { absolute: Array.from({ length: budgets }, (_, i) => 640 * (i + 1)) };
  },
  manySeeds(s, r) {
    s.seeds = Array.from({ length: 1 + Math.floor(r() * 40) }, (_, i) => i * 7);
  },
  longName(s, r) {
    const len = pick([65, 200, 5000], r);
    const where = pick(["name", "model", "scheme", "element", "data", "filter"], r);
    const long = "a".repeat(len);
    if (where === "name") s.name = long;
    else if (where === "model") (s.models as Json[])[0] = { name: long, layers: 1, dModel: 32 };
    else if (where === "scheme") s.schemes = [{ name: long, fwd: "bf16", bwd: "bf16" }];
    else if (where === "element") s.schemes = [{ name: "e", fwd: { x: operand(long) }, bwd: "bf16" }];
    else if (where === "data") s.data = long;
    else s.include = [{ model: long }];
  },
  deleteEntry(s, r) {
    const es = entries(s).filter(([p]) => p.length > 0);
    deleteAt(s, pick(es, r)[0]);
  },
  repeatEntry(s, r) {
    const es = entries(s).filter(([, v]) => Array.isArray(v) && v.length > 0);
    const [, arr] = pick(es, r);
    (arr as unknown[]).push(structuredClone((arr as unknown[])[0]));
  },
  aspect(s, r) {
    s.shapeRule = { aspect: pick([0.01, 1e5, 0.25, 0.3, 16384, 1e-9, 1e308], r) };
    s.models = [{ params: pick([1000, 2e4, 1e6, 1e9, 1e12, 1e13], r) }];
  },
  tokenBudget(s, r) {
    s.tokens = r() < 0.5
      ? { perParam: [pick([1e308, 1e6, 1e5, 1e-9, 0.001], r)] }
      : { absolute: [pick([1, 1e13, 1e14, 2 ** 53, 640], r)] };
  },
  learningRate(s, r) {
    s.optimizer = {
      lr: pick([
        { rule: "constant", value: 1e308 },
        { rule: "constant", value: 10 },
        { rule: "inverse-params", base: 1e308, baseParams: 1e4 },
        { rule: "inverse-params", base: 1e-3, baseParams: 1e4, min: 1, max: 0.1 },
        { rule: "inverse-params", base: 9, baseParams: 1e12, power: 2 },
        { rule: "inverse-params", base: 1e-3, baseParams: 1e-300, power: 2 },
        { rule: "inverse-params", base: 1e-3, baseParams: 1e4, power: 3 },
      ], r),
    };
  },
  seedsAlias(s, r) {
    s.seeds = pick([[0, 4294967296], [-1], [0.5], [2 ** 32 - 1], [0, 0], [1e308]], r);
  },
  filters(s, r) {
    const f = pick([
      { include: [{ scheme: "quartett" }] },
      { exclude: [{}] },
      { include: [{}] },
      { include: [{ seed: 99 }] },
      { include: [{ tokens: 640, tokensPerParam: 1 }] },
      { exclude: [{ seed: (s.seeds as number[] | undefined) ?? [0] }] },
      { include: [{ model: "nope" }] },
    ], r);
    Object.assign(s, f);
  },
  speedups(s, r) {
    s.cost = {
      model: "measured",
      speedups: pick([
        { quartett: { fwd: 2, bwd: 2 } },
        JSON.parse('{"__proto__": {"fwd": 2, "bwd": 2}}'),
        { fp32: { fwd: Infinity, bwd: 1 } },
        { fp32: { fwd: 2, bwd: 2 } },
      ], r),
    };
  },
  duplicateModels(s, r) {
    s.models = pick([
      [{ name: "a", layers: 1, dModel: 32 }, { name: "a", layers: 2, dModel: 64 }],
      [{ name: "a", layers: 1, dModel: 32 }, { name: "a", layers: 1, dModel: 32 }],
      [{ layers: 1, dModel: 32 }, { name: "L1-d32", layers: 1, dModel: 32, heads: 4 }],
    ], r);
  },
};

function pick<T>(xs: readonly T[], r: () => number): T {
  return xs[Math.floor(r() * xs.length)];
}

/** Asserts that every number of a planned run is finite and within the spec's limits. */
function checkRun(run: PlannedRun, what: string): void {
  const c = run.config, m = c.model as ModelConfig; // the fuzz's base specs are Llama ladders
  const ints: [string, number, number, number][] = [
    ["steps", c.steps, 1, LIMITS.steps],
    ["batch", c.batch, 1, LIMITS.batch],
    ["context", m.context, 32, LIMITS.context],
    ["layers", m.layers, 1, 256],
    ["dModel", m.dModel, 32, 16384],
    ["heads", m.heads, 1, m.dModel],
    ["ffn", m.ffn, 32, 65536],
    ["seed", c.seed, 0, LIMITS.seeds - 1],
    ["evalEvery", c.evalEvery, 0, LIMITS.count],
    ["evalTokens", c.evalTokens, 1, LIMITS.count],
  ];
  for (const [name, v, lo, hi] of ints) {
    assert.ok(Number.isInteger(v) && v >= lo && v <= hi, `${what}: ${name} = ${v}`);
  }
  assert.ok(c.lr > 0 && c.lr <= LIMITS.lr, `${what}: lr = ${c.lr}`);
  for (const [name, v] of Object.entries({ n: run.nonEmbeddingParams, d: run.trainTokens, f: run.flops })) {
    assert.ok(Number.isFinite(v) && v > 0, `${what}: ${name} = ${v}`);
  }
  assert.ok(Number.isFinite(run.schemeInfo.fwdBits) && Number.isFinite(run.schemeInfo.bwdBits), what);
  assert.match(run.id, /^[A-Za-z0-9.+_-]{1,200}$/, `${what}: run id`);
}

Deno.test(`fuzz: ${FUZZ_SPECS} mutated specs are refused with path-named problems or expand to sane runs`, async () => {
  const r = rng(SEED);
  const names = Object.keys(MUTATIONS);
  const used = new Map<string, number>();
  let accepted = 0, refused = 0, slowest = 0;
  const t0 = performance.now();
  for (let i = 0; i < FUZZ_SPECS; i++) {
    const spec = structuredClone(BASES[i % BASES.length]) as Json;
    // Every mutation at least once (the first specs take them in order), then 1–3 random ones.
    const chosen = i < names.length
      ? [names[i]]
      : Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(names, r));
    for (const m of chosen) {
      MUTATIONS[m](spec, r);
      used.set(m, (used.get(m) ?? 0) + 1);
    }
    const what = `spec #${i} (${chosen.join(", ")})`;
    const t = performance.now();
    try {
      const { runs } = await expandExperiment(parseExperiment(spec));
      assert.ok(runs.length >= 1, `${what}: accepted with no runs`);
      for (const run of runs) checkRun(run, what);
      accepted++;
    } catch (e) {
      if (!(e instanceof InputError)) assert.fail(`${what} crashed: ${(e as Error)?.stack ?? e}`);
      assert.ok(e.problems.length >= 1, `${what}: InputError without problems: ${e.message}`);
      for (const p of e.problems) {
        assert.ok(p.message.length > 0 && !p.message.includes("\n"), `${what}: problem "${p.message}"`);
        assert.ok(p.path !== "" || /expands to/.test(p.message), `${what}: no path for "${p.message}"`);
      }
      if (e.problems.length === 1) assert.equal(e.message.split("\n").length, 1, `${what}: ${e.message}`);
      refused++;
    }
    slowest = Math.max(slowest, performance.now() - t);
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `fuzz: ${FUZZ_SPECS} specs, ${accepted} accepted, ${refused} refused in ${seconds.toFixed(2)} s ` +
      `(slowest ${slowest.toFixed(0)} ms)`,
  );
  assert.deepEqual([...used.keys()].sort(), [...names].sort(), "every mutation was tried");
  assert.ok(accepted >= 20 && refused >= FUZZ_SPECS / 2, `${accepted} accepted, ${refused} refused`);
  assert.ok(slowest < 5000, `one spec took ${slowest.toFixed(0)} ms (a hang?)`);
});
