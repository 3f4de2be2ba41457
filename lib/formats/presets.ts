/**
 * Named operand recipes: the OCP MX v1.0 formats, NVFP4, and every element format at unit scale.
 * @module
 */
import { elementFormat, ELEMENTS } from "./elements.ts";
import type { QuantSpec, ScaleRule } from "./scaling.ts";

/** MX preset: blocks of 32 along the reduction axis, E8M0 scale by the OCP rule. */
function mx(elem: string): QuantSpec {
  return {
    element: ELEMENTS[elem],
    scale: { granularity: "block", block: 32, axis: 1, type: "e8m0", rule: "ocp" },
    rounding: "nearest",
  };
}

/** The block-scaled presets by name (a null-prototype object). */
export const PRESETS: Readonly<Record<string, QuantSpec>> = Object.freeze(Object.assign(Object.create(null), {
  mxfp4: mx("e2m1"),
  mxfp6_e2m3: mx("e2m3"),
  mxfp6_e3m2: mx("e3m2"),
  mxfp8_e4m3: mx("e4m3"),
  mxfp8_e5m2: mx("e5m2"),
  // NVFP4: 16 E2M1 per E4M3 block scale, under an f32 tensor scale St = amax/(448·6).
  nvfp4: {
    element: ELEMENTS.e2m1,
    scale: { granularity: "block", block: 16, axis: 1, type: "e4m3", rule: "absmax", tensorScale: true },
    rounding: "nearest",
  },
}));

/** Every name the CLI accepts: element formats (unit scale) and presets. */
export function formatNames(): string[] {
  return [...Object.keys(ELEMENTS), ...Object.keys(PRESETS)];
}

/**
 * The QuantSpec for a format or preset name (a fresh copy the caller may modify).
 * Element names give unit scale. Throws a one-line error for unknown names.
 */
export function specFor(name: string): QuantSpec {
  const key = name.toLowerCase();
  const p = PRESETS[key];
  if (p) return { ...p, scale: { ...p.scale } };
  if (ELEMENTS[key]) {
    return {
      element: elementFormat(key),
      scale: { granularity: "none", type: "f32", rule: "absmax" },
      rounding: "nearest",
    };
  }
  throw new Error(`unknown format "${name}"; choose one of: ${formatNames().join(", ")}`);
}

/**
 * Applies a clip rule to an MX-style spec: "absmax" keeps the preset's rule, "quest" / "quest-round"
 * switch E8M0 block scales to the QuEST σ rule (Quartet's forward quantizer).
 */
export function withClip(spec: QuantSpec, clip: "absmax" | "quest" | "quest-round"): QuantSpec {
  if (clip === "absmax") return spec;
  if (spec.scale.granularity === "none" || spec.scale.type !== "e8m0") {
    throw new Error(`--clip ${clip} needs an E8M0 block-scaled preset (mxfp4, mxfp6_*, mxfp8_*)`);
  }
  return { ...spec, scale: { ...spec.scale, rule: clip as ScaleRule } };
}
