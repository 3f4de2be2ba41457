/** Data sources: shipped corpora, deterministic document split and batches, Markov entropy. */
import assert from "node:assert/strict";
import { loadSource, markovEntropy, markovTable, parseMarkov } from "../lib/data/sources.ts";
import { BatchSampler, windowBatches } from "../lib/data/batches.ts";

Deno.test("shipped corpora load with disjoint, deterministic train/validation documents", () => {
  for (const name of ["sotu", "brown", "moby-dick"]) {
    const s = loadSource(name);
    assert.ok(s.train.length > 500_000, `${name}: ${s.train.length} train tokens`);
    assert.ok(s.val.length > 20_000, `${name}: ${s.val.length} val tokens`);
    assert.ok(s.docs.val >= 5 && s.docs.train > 10 * s.docs.val, `${name}: docs ${JSON.stringify(s.docs)}`);
  }
  const b = new TextDecoder().decode(loadSource("brown").train.subarray(0, 200));
  assert.ok(!/\/(at|nn|np)\b/.test(b), `brown tags stripped: ${b}`);
  assert.throws(() => loadSource("nope"), /unknown data source "nope"/);
});

Deno.test("batches are a pure function of (seed, step); epochs permute all windows", () => {
  const tokens = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
  const a = new BatchSampler(tokens, 10, 4, 1),
    b = new BatchSampler(tokens, 10, 4, 1),
    c = new BatchSampler(tokens, 10, 4, 2);
  assert.equal(a.windows, 99);
  assert.deepEqual(a.at(30), b.at(30));
  assert.deepEqual(a.at(3).inputs, b.at(3).inputs);
  assert.notDeepEqual(a.at(0).inputs, c.at(0).inputs);
  const x = a.at(5);
  for (let i = 0; i < 9; i++) assert.equal(x.targets[i], x.inputs[i + 1]);
  // one epoch covers each window exactly once
  const seen = new Set<number>();
  const s1 = new BatchSampler(tokens, 10, 1, 3);
  for (let s = 0; s < 99; s++) seen.add(s1.at(s).inputs[0] + 1000 * s1.at(s).inputs[1]);
  assert.equal(seen.size, 99);
  const w = windowBatches(Uint8Array.from([1, 2, 3, 4, 5]), 3, 2);
  assert.equal(w.tokens, 4);
  assert.deepEqual([...w.batches[0].targets], [2, 3, 4, 5, -1, -1]);
});

Deno.test("Markov source: exact entropy rate matches the empirical conditional entropy", () => {
  const o = parseMarkov("markov:k=2,v=6,seed=3,tokens=400000");
  const h = markovEntropy(o);
  const s = loadSource("markov:k=2,v=6,seed=3,tokens=400000");
  assert.equal(s.entropyRate, h);
  assert.ok(h > 0.3 && h < Math.log(6), `entropy ${h}`);
  // empirical −log P(x | previous k) under the true table
  const P = markovTable(o);
  let nll = 0;
  const t = s.train;
  for (let i = 2; i < t.length; i++) {
    const st = (t[i - 2] - 97) * 6 + (t[i - 1] - 97);
    nll -= Math.log(P[st * 6 + t[i] - 97]);
  }
  nll /= t.length - 2;
  assert.ok(Math.abs(nll - h) < 0.01, `empirical ${nll} vs exact ${h}`);
  assert.throws(() => parseMarkov("markov:q=1"), /markov: unknown option "q"/);
});
