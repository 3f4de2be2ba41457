/**
 * Block formats on hand-made blocks: OCP MX (E8M0 scale rule, saturation at amax = 7, all-zero and
 * clamped blocks, NaN/Inf elements), NVFP4 two-level scaling, QuEST σ rules and their clip masks.
 */
import assert from "node:assert/strict";
import { ELEMENTS } from "../lib/formats/elements.ts";
import { specFor, withClip } from "../lib/formats/presets.ts";
import { quantizeTensor, tensorScaleOf } from "../lib/formats/scaling.ts";
import { hadamardForward } from "../lib/formats/hadamard.ts";
import { quantizeElement } from "../lib/formats/quantize.ts";
import { gauss } from "../lib/formats/testdata.ts";

function block(head: number[], len = 32, fill = 0): Float32Array {
  const b = new Float32Array(len).fill(fill);
  b.set(head);
  return b;
}

Deno.test("MXFP4: amax = 7 gives scale 2^0 and 7 saturates to 6", () => {
  const r = quantizeTensor(block([7, 1, 0.3, -2.2, 5, -0.25]), specFor("mxfp4"));
  assert.deepEqual(Array.from(r.values.slice(0, 6)), [6, 1, 0.5, -2, 4, -0]);
  assert.deepEqual(Array.from(r.scaleCodes), [127]);
  assert.deepEqual(Array.from(r.codes.slice(0, 4)), [0b0111, 0b0010, 0b0001, 0b1100]);
  assert.deepEqual(Array.from(r.mask.slice(0, 2)), [0, 1]); // 7 is clipped
});

Deno.test("MXFP4: scale 2^(floor(log2 amax) − 2) on several blocks", () => {
  const x = new Float32Array(96);
  x.set([8, 3, -1], 0); // amax 8 → X = 2: 8→8, 3→3 (1.5·2), −1→−1
  x.set([0.1, 0.05, -0.02], 32); // amax 0.1: floor(log2) = −4 → X = 2^−6; −0.02/X = −1.28 → −1.5
  x.set([1e30, 1], 64); // amax 1e30: floor(log2) = 99 → X = 2^97
  const r = quantizeTensor(x, specFor("mxfp4"));
  assert.deepEqual(Array.from(r.scaleCodes), [128, 121, 224]);
  assert.deepEqual(Array.from(r.values.slice(0, 3)), [8, 3, -1]);
  const s = 2 ** -6;
  assert.deepEqual(Array.from(r.values.slice(32, 35)), [6 * s, 3 * s, -1.5 * s].map(Math.fround));
  assert.equal(r.values[64], Math.fround(6 * 2 ** 97)); // 1e30/2^97 = 6.3 → 6
  assert.equal(r.values[65], 0);
});

Deno.test("MX: all-zero block gives zeros, tiny blocks clamp the exponent to −127, huge to ≤ 127", () => {
  const x = new Float32Array(96);
  x.set([2 ** -140, -(2 ** -141)], 32);
  x.set([3.4e38, -3e38], 64);
  const r = quantizeTensor(x, specFor("mxfp4"));
  assert.deepEqual(Array.from(r.scaleCodes), [0, 0, 127 + 125]);
  assert.ok(r.values.slice(0, 64).every((v) => v === 0));
  assert.deepEqual(Array.from(r.values.slice(64, 66)), [6 * 2 ** 125, -6 * 2 ** 125]);
});

Deno.test("MXFP8/6: emax_elem per format, saturation, NaN and Inf elements", () => {
  // E4M3: emax 8. amax 1000 → floor(log2) 9 → X = 2 → 500 saturates to 448 → 896.
  let r = quantizeTensor(block([1000, 3, NaN]), specFor("mxfp8_e4m3"));
  assert.equal(r.scaleCodes[0], 128);
  assert.deepEqual(Array.from(r.values.slice(0, 2)), [896, 3]);
  assert.ok(Number.isNaN(r.values[2]));
  // E5M2: emax 15; Inf stays Inf, the scale comes from the finite values.
  r = quantizeTensor(block([Infinity, -Infinity, 1]), specFor("mxfp8_e5m2"));
  assert.equal(r.scaleCodes[0], 127 - 15);
  assert.deepEqual(Array.from(r.values.slice(0, 3)), [Infinity, -Infinity, 1]);
  // E3M2 (emax 4) and E2M3 (emax 2): Inf becomes ±max·X.
  r = quantizeTensor(block([Infinity, 20]), specFor("mxfp6_e3m2"));
  assert.equal(r.scaleCodes[0], 127 + 0); // floor(log2 20) = 4 → X = 1
  assert.deepEqual(Array.from(r.values.slice(0, 2)), [28, 20]);
  r = quantizeTensor(block([-Infinity, 7.9]), specFor("mxfp6_e2m3"));
  assert.deepEqual(Array.from(r.values.slice(0, 2)), [-7.5, 7.5]);
});

Deno.test("NVFP4: St = amax/(448·6), block scale E4M3(amax_b/6/St), element E2M1(x/(s_b·St))", () => {
  const x = new Float32Array(32);
  x.set([6, -3, 1.2, 0.2], 0);
  x.set([0.6, 0.3, -0.05], 16);
  const r = quantizeTensor(x, specFor("nvfp4"));
  const St = Math.fround(6 / 2688);
  assert.equal(r.tensorScale, St);
  assert.equal(tensorScaleOf(6, ELEMENTS.e2m1), St);
  // block 0: amax/6/St ≈ 448 → s_b = 448, effective scale 448·St ≈ 1
  const sb0 = quantizeElement(ELEMENTS.e4m3, Math.fround(1 / St));
  assert.equal(sb0, 448);
  const d0 = Math.fround(448 * St);
  assert.deepEqual(Array.from(r.values.slice(0, 4)), [6, -3, 1, 0].map((q) => Math.fround(q * d0)));
  // block 1: amax 0.6 → 0.1/St = 44.8 → E4M3 44 (step 4 in [32, 64)) → scale 44·St
  const d1 = Math.fround(44 * St);
  assert.equal(r.scales[1], d1);
  assert.equal(r.scaleCodes[1], 0b0_1100_011); // 44 = 1.375·2^5: exponent field 12, mantissa 3
  const u = [0.6, 0.3, -0.05].map((v) => Math.fround(v / d1)); // 6.11, 3.05, −0.51
  assert.deepEqual(Array.from(r.values.slice(16, 19)), [6, 3, -0.5].map((q) => Math.fround(q * d1)));
  assert.ok(u[0] > 6 && r.mask[16] === 0 && r.mask[17] === 1);
});

Deno.test("NVFP4: all-zero tensor gives zeros (no 0/0)", () => {
  const r = quantizeTensor(new Float32Array(16), specFor("nvfp4"));
  assert.equal(r.tensorScale, 0);
  assert.ok(r.values.every((v) => Object.is(v, 0)));
});

Deno.test("QuEST σ rule: floor vs round-to-nearest exponent on hand-made blocks, clip mask |x/s| < 6", () => {
  const alt = new Float32Array(32).map((_, i) => (i % 2 ? -1 : 1)); // σ = 1: 0.487 → 2^−2 (floor), 2^−1 (round)
  const q = quantizeTensor(alt, withClip(specFor("mxfp4"), "quest"));
  assert.deepEqual(Array.from(q.scaleCodes), [125]);
  assert.ok(q.values.every((v, i) => v === alt[i]) && q.mask.every((m) => m === 1));
  const qr = quantizeTensor(alt, withClip(specFor("mxfp4"), "quest-round"));
  assert.deepEqual(Array.from(qr.scaleCodes), [126]);
  // one spike: mean 0.3125, σ² = 3.125 − 0.09765625 → σ ≈ 1.7399 → 0.8475: floor → 2^−1, round → 2^0
  const spike = block([10]);
  const a = quantizeTensor(spike, withClip(specFor("mxfp4"), "quest"));
  assert.deepEqual([a.scaleCodes[0], a.values[0], a.mask[0], a.mask[1]], [126, 3, 0, 1]);
  const b = quantizeTensor(spike, withClip(specFor("mxfp4"), "quest-round"));
  assert.deepEqual([b.scaleCodes[0], b.values[0], b.mask[0]], [127, 6, 0]);
  // u exactly 6 is clipped under QuEST (strict <) but not under absmax (≤ max)
  const six = block([6, 6, -6, 6], 32, 0);
  six.fill(6);
  const c = quantizeTensor(six, withClip(specFor("mxfp4"), "quest")); // σ = 0 → 1e-8 → tiny scale
  assert.equal(c.mask[0], 0);
  assert.equal(quantizeTensor(block([6]), specFor("mxfp4")).mask[0], 1);
});

Deno.test("QuEST on N(0,1) after H32: the spec's figures (floor ≈ 0.027 MSE, 7% clipped; round ≈ 0.0127)", () => {
  const n = 1 << 16;
  const x = new Float32Array(n).map((_, i) => gauss(1, i));
  const h = hadamardForward(x, 32);
  const stats = (clip: "absmax" | "quest" | "quest-round") => {
    const r = quantizeTensor(x, { ...withClip(specFor("mxfp4"), clip), hadamard: { size: 32 } }, {
      rotateBack: false,
    });
    let se = 0, clipped = 0;
    for (let i = 0; i < n; i++) {
      se += (r.values[i] - h[i]) ** 2;
      clipped += 1 - r.mask[i];
    }
    return [se / n, clipped / n];
  };
  const [mf, cf] = stats("quest"), [mr] = stats("quest-round"), [ma] = stats("absmax");
  assert.ok(Math.abs(mf - 0.027) < 0.0015, `floor MSE ${mf}`);
  assert.ok(Math.abs(cf - 0.07) < 0.01, `floor clipped ${cf}`);
  assert.ok(Math.abs(mr - 0.0127) < 0.0008, `round MSE ${mr}`);
  assert.ok(Math.abs(ma - 0.0134) < 0.0008, `OCP absmax MSE ${ma}`);
});

Deno.test("block geometry errors name the problem", () => {
  assert.throws(
    () => quantizeTensor(new Float32Array(33), specFor("mxfp4")),
    /33 is not a multiple of the block 32/,
  );
  assert.throws(
    () => quantizeTensor(new Float32Array(32), { ...specFor("mxfp4"), hadamard: { size: 64 } }),
    /hadamard/,
  );
  assert.throws(() => withClip(specFor("nvfp4"), "quest"), /E8M0/);
});
