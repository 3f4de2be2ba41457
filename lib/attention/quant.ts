/**
 * Operand quantizers of the attention recipes, defined once on top of lib/formats: each {@link OperandQuant}
 * maps to a QuantSpec (element format + scale type and rule) and a group shape over the operand's
 * [rows, cols] matrix. The TS reference quantizes each group with `quantizeTensor`; the WGSL fake-quant
 * kernel (kernels/attention) generates its scale and round functions from the same QuantSpec.
 * @module
 */
import { ELEMENTS } from "../formats/elements.ts";
import { quantizeTensor, type QuantSpec } from "../formats/scaling.ts";
import type { OperandQuant } from "./recipes.ts";

/**
 * Which matrix an operand is, which fixes the axis its groups run along:
 * - `qk`: Q or K [T, hd], contraction along hd (groups along columns);
 * - `v`: V [T, hd] in P·V, contraction along tokens (groups down columns);
 * - `tok`: dO or V [T, hd] in the backward (INT8 blocks of tile × hd, or 16-bit elements);
 * - `p`: P [T, T], contraction along keys (groups along the row);
 * - `ss`: dS [T, T] (INT8 blocks of tile × tile).
 */
export type OperandRole = "qk" | "v" | "tok" | "p" | "ss";

/** Group shape: `rows` × `cols` elements share one scale (clipped at the matrix edge). */
export interface GroupShape {
  /** Rows per group. */
  rows: number;
  /** Columns per group. */
  cols: number;
}

/** The lib/formats spec of one group of an operand (granularity "tensor": one scale per group); null: f32. */
export function operandSpec(q: OperandQuant): QuantSpec | null {
  switch (q) {
    case "f32":
      return null;
    case "bf16":
    case "fp16":
      return {
        element: ELEMENTS[q],
        scale: { granularity: "none", type: "f32", rule: "absmax" },
        rounding: "nearest",
      };
    case "nvfp4":
      return {
        element: ELEMENTS.e2m1,
        scale: { granularity: "tensor", type: "e4m3", rule: "absmax" },
        rounding: "nearest",
      };
    case "mxfp4":
      return {
        element: ELEMENTS.e2m1,
        scale: { granularity: "tensor", type: "e8m0", rule: "ocp" },
        rounding: "nearest",
      };
    case "int8-block":
    case "int8-token":
      return {
        element: ELEMENTS.int8,
        scale: { granularity: "tensor", type: "f32", rule: "absmax" },
        rounding: "nearest",
      };
  }
}

/** Group shape of operand quantizer `q` in role `role` for a matrix of `cols` columns and key tile `tile`. */
export function groupShape(q: OperandQuant, role: OperandRole, cols: number, tile: number): GroupShape {
  const along = role === "v" ? "rows" : "cols";
  switch (q) {
    case "f32":
    case "bf16":
    case "fp16":
      return { rows: 1, cols: 1 };
    case "nvfp4":
    case "mxfp4": {
      const n = q === "nvfp4" ? 16 : 32;
      return along === "rows" ? { rows: n, cols: 1 } : { rows: 1, cols: n };
    }
    case "int8-block":
      return { rows: tile, cols: role === "p" || role === "ss" ? tile : cols };
    case "int8-token":
      return { rows: 1, cols: role === "p" || role === "ss" ? tile : cols };
  }
}

/**
 * Fake-quantizes a row-major [rows, cols] matrix (returns a new array): every group of the shape (clipped at
 * the edges, groups aligned to multiples of the shape) is quantized with its own scale, values taken in
 * row-major order within the group.
 */
export function fakeQuant(
  x: Float32Array,
  rows: number,
  cols: number,
  q: OperandQuant,
  role: OperandRole,
  tile: number,
): Float32Array {
  const spec = operandSpec(q);
  if (!spec) return Float32Array.from(x);
  if (spec.scale.granularity === "none") return quantizeTensor(x, spec).values;
  const g = groupShape(q, role, cols, tile);
  const out = new Float32Array(rows * cols);
  const buf = new Float32Array(g.rows * g.cols);
  for (let r0 = 0; r0 < rows; r0 += g.rows) {
    const nr = Math.min(g.rows, rows - r0);
    for (let c0 = 0; c0 < cols; c0 += g.cols) {
      const nc = Math.min(g.cols, cols - c0);
      const n = nr * nc;
      const v = n === buf.length ? buf : new Float32Array(n);
      for (let r = 0; r < nr; r++) for (let c = 0; c < nc; c++) v[r * nc + c] = x[(r0 + r) * cols + c0 + c];
      const res = quantizeTensor(v, spec).values;
      for (let r = 0; r < nr; r++) {
        for (let c = 0; c < nc; c++) out[(r0 + r) * cols + c0 + c] = res[r * nc + c];
      }
    }
  }
  return out;
}
