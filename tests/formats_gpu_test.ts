/**
 * TS reference vs WGSL kernels, bit for bit: values, element codes, clip masks and scales, on 2^20
 * mixed random values per format (edge cases included), one GPU run per format.
 */
import assert from "node:assert/strict";
import { ELEMENTS, minifloat } from "../lib/formats/elements.ts";
import { formatNames, specFor, withClip } from "../lib/formats/presets.ts";
import { quantizeTensor, type QuantSpec, type TensorOptions } from "../lib/formats/scaling.ts";
import { quantizeGpu } from "../kernels/formats/run.ts";
import { bitDiffs, mixedValues } from "../lib/formats/testdata.ts";

const MILLION = 1 << 20;

async function compare(
  name: string,
  spec: QuantSpec,
  x: Float32Array,
  opts: TensorOptions = {},
): Promise<void> {
  const g = await quantizeGpu(x, spec, { ...opts, codes: true, mask: true });
  const r = quantizeTensor(x, spec, opts);
  const d = bitDiffs(g.values, r.values);
  assert.deepEqual(
    d.map((i) => `${x[i]}: gpu ${g.values[i]} ts ${r.values[i]}`),
    [],
    `${name}: values differ`,
  );
  for (let i = 0; i < x.length; i++) {
    if (g.codes[i] !== r.codes[i] || g.mask[i] !== r.mask[i]) {
      assert.fail(
        `${name}: element ${i} (${x[i]}): code ${g.codes[i]}/${r.codes[i]} mask ${g.mask[i]}/${r.mask[i]}`,
      );
    }
  }
  assert.deepEqual(bitDiffs(g.scales, r.scales), [], `${name}: scales differ`);
  assert.deepEqual(Array.from(g.scaleCodes), Array.from(r.scaleCodes), `${name}: scale codes differ`);
  assert.equal(g.tensorScale, r.tensorScale, `${name}: tensor scale`);
}

for (const name of formatNames()) {
  Deno.test(`gpu = ts bit for bit: ${name} (2^20 values)`, async () => {
    const spec = specFor(name);
    const elem = ELEMENTS[name] ?? spec.element;
    await compare(name, spec, mixedValues(MILLION, name.length * 7919, elem));
  });
}

Deno.test("gpu = ts: stochastic rounding, every element format and mxfp4 (2^16 values each)", async () => {
  for (const name of [...Object.keys(ELEMENTS), "mxfp4", "nvfp4"]) {
    const spec = { ...specFor(name), rounding: "stochastic" as const, seed: 1234, counterOffset: 99 };
    await compare(`${name}/sr`, spec, mixedValues(1 << 16, 5, ELEMENTS[name]));
  }
});

Deno.test("gpu = ts: QuEST rules with Hadamard, random signs, SR (2^20 values)", async () => {
  const x = mixedValues(MILLION, 77);
  for (const clip of ["quest", "quest-round"] as const) {
    const spec = { ...withClip(specFor("mxfp4"), clip), hadamard: { size: 32, signSeed: 11 } };
    await compare(`mxfp4/${clip}/h32`, spec, x.subarray(0, clip === "quest" ? MILLION : 1 << 16));
  }
  const sr: QuantSpec = {
    ...withClip(specFor("mxfp4"), "quest"),
    hadamard: { size: 32 },
    rounding: "stochastic",
    seed: 3,
  };
  await compare("mxfp4/quest/h32/sr", sr, x.subarray(0, 1 << 16));
});

Deno.test("gpu = ts: scaling modes (tensor/row/col/block axis 0, f32/e4m3/e8m0 scales, hadamard 16..256)", async () => {
  const x = mixedValues(1 << 14, 31);
  const shape = { rows: 64, cols: 256 };
  const e2m1 = ELEMENTS.e2m1;
  const cases: [string, QuantSpec][] = [
    ["tensor/f32", {
      element: e2m1,
      scale: { granularity: "tensor", type: "f32", rule: "absmax" },
      rounding: "nearest",
    }],
    ["tensor/e8m0-ocp (parallel amax)", {
      element: e2m1,
      scale: { granularity: "tensor", type: "e8m0", rule: "ocp" },
      rounding: "nearest",
    }],
    ["tensor/quest (sequential sums)", {
      element: e2m1,
      scale: { granularity: "tensor", type: "e8m0", rule: "quest" },
      rounding: "nearest",
    }],
    ["row/f32/int8", {
      element: ELEMENTS.int8,
      scale: { granularity: "row", type: "f32", rule: "absmax" },
      rounding: "nearest",
    }],
    ["col/e4m3/int4", {
      element: ELEMENTS.int4,
      scale: { granularity: "col", type: "e4m3", rule: "absmax" },
      rounding: "nearest",
    }],
    ["row/quest", {
      element: e2m1,
      scale: { granularity: "row", type: "e8m0", rule: "quest" },
      rounding: "nearest",
    }],
    ["block64/axis0/e8m0-absmax", {
      element: ELEMENTS.e3m2,
      scale: { granularity: "block", block: 64, axis: 0, type: "e8m0", rule: "absmax" },
      rounding: "nearest",
    }],
    ["block128/e4m3", {
      element: e2m1,
      scale: { granularity: "block", block: 128, type: "e4m3", rule: "absmax" },
      rounding: "nearest",
    }],
    ["block16/h256", {
      ...specFor("mxfp4"),
      scale: { ...specFor("mxfp4").scale, block: 16 },
      hadamard: { size: 256, signSeed: 2 },
    }],
    ["nvfp4/h16", { ...specFor("nvfp4"), hadamard: { size: 16 } }],
    ["mxfp8_e4m3/h64", { ...specFor("mxfp8_e4m3"), hadamard: { size: 64 } }],
    ["mxfp6/h128", { ...specFor("mxfp6_e2m3"), hadamard: { size: 128, signSeed: 5 } }],
    ["real-bias e2m1 b=1.37 /row f32", {
      element: minifloat(2, 1, { bias: 1.37 }),
      scale: { granularity: "row", type: "f32", rule: "absmax" },
      rounding: "nearest",
    }],
    ["real-bias e3m0 b=2.6", { ...specFor("e2m1"), element: minifloat(3, 0, { bias: 2.6 }) }],
  ];
  for (const [name, spec] of cases) await compare(name, spec, x, shape);
});

Deno.test("gpu = ts: generic real-bias minifloats on 2^20 values", async () => {
  const fmt = minifloat(2, 1, { bias: 0.63 });
  await compare("e2m1_b0.63", { ...specFor("e2m1"), element: fmt }, mixedValues(MILLION, 3, fmt));
});

Deno.test("fused single-kernel path (values + scales) equals the TS reference", async () => {
  const x = mixedValues(1 << 16, 45);
  const cases: [string, QuantSpec][] = [
    ["mxfp4", specFor("mxfp4")],
    ["nvfp4", specFor("nvfp4")],
    ["quartet fwd H32 quest SR", {
      ...withClip(specFor("mxfp4"), "quest"),
      hadamard: { size: 32, signSeed: 4 },
      rounding: "stochastic",
      seed: 8,
    }],
    ["mxfp6 H128", { ...specFor("mxfp6_e3m2"), hadamard: { size: 128 } }],
    ["e2m1 unit", specFor("e2m1")],
    ["bf16 unit SR", { ...specFor("bf16"), rounding: "stochastic", seed: 2 }],
  ];
  for (const [name, spec] of cases) {
    for (const rotateBack of [true, false]) {
      const g = await quantizeGpu(x, spec, { path: "fused", rotateBack });
      const r = quantizeTensor(x, spec, { rotateBack });
      assert.deepEqual(bitDiffs(g.values, r.values), [], `${name} (rotateBack ${rotateBack})`);
      if (spec.scale.granularity !== "none") {
        assert.deepEqual(Array.from(g.scaleCodes), Array.from(r.scaleCodes), name);
      }
    }
  }
});
