/**
 * Quantizes a float Llama model with a recipe: runs the recipe's method on every linear layer's calibration
 * data and returns the stored (fake-quantized) parameters, the activation quantizers and a per-layer report.
 * @module
 */
import type { ModelConfig } from "../engine/api.ts";
import { paramLayout } from "../models/llama/config.ts";
import { type LinearInfo, linearLayers } from "./forward.ts";
import { fpCandidates, gridOf } from "./grid.ts";
import type { LayerData, LayerResult } from "./layer.ts";
import { storedWeight } from "./layer.ts";
import { absmaxScales, type ActQuant, applyAct, outputMse, presetWeight, rtnWeight } from "./quant.ts";
import { actFormat, actPreset, type PtqRecipe } from "./recipes.ts";
import { fpqSearch } from "./fpq.ts";
import { type QuadSearch, runSearch } from "./quad_batch.ts";
import { hqditLayer } from "./hqdit.ts";
import { adaround } from "./adaround.ts";

/** Report line of one quantized tensor. */
export interface LayerReport {
  /** Flat tensor name. */
  name: string;
  /** Weight format (element or preset element). */
  wFormat: string;
  /** Activation format ("none": float). */
  aFormat: string;
  /** Layer-output MSE on calibration tokens (embedding: weight MSE). */
  outputMse: number;
  /** Method facts (search choices, AdaRound traces). */
  notes?: Record<string, unknown>;
}

/** Weight metadata stored with a quantized checkpoint (the scales go to ptq_scales.safetensors). */
export interface WeightMeta {
  /** Element format of the grid. */
  format: string;
  /** Group length along in-features of the scales [outF, groups]. */
  groupLen: number;
  /** Whether a per-input-column factor (2^−ρ) is folded in. */
  colScale: boolean;
}

/** The quantized model. */
export interface QuantizedModel {
  /** Stored parameters (flat layout). */
  params: Float32Array;
  /** Activation quantizers by linear name. */
  acts: Record<string, ActQuant>;
  /** Weight metadata by tensor name. */
  weights: Record<string, WeightMeta>;
  /** Scales [outF, groups] and column factors by tensor name. */
  scales: Map<string, { scales: Float64Array; colScale?: Float64Array; shape: [number, number] }>;
  /** Per-layer report. */
  layers: LayerReport[];
}

/** Options of {@link quantizeModel}. */
export interface QuantizeOptions {
  /** Activation width (16: none) and weight width (4). */
  wBits: number;
  /** Activation bits. */
  aBits: number;
  /** Rotation seed. */
  seed: number;
  /** Override AdaRound iterations. */
  iters?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

function minmaxLayer(d: LayerData, fmt: "e2m1" | "int4" | "mxfp4" | "nvfp4", aBits: number): LayerResult {
  const { outF, inF } = d.info;
  if (fmt === "mxfp4" || fmt === "nvfp4") {
    const weight = presetWeight(d.W, outF, inF, fmt);
    const p = actPreset(fmt, aBits);
    return { weight, act: p ? { format: p, mode: "block" } : undefined };
  }
  const g = gridOf(fmt);
  const weight = rtnWeight(d.W, outF, inF, fmt, absmaxScales(d.W, outF, inF, inF, g.max), inF);
  const af = actFormat(fmt, aBits);
  if (!af) return { weight };
  let amax = 0;
  for (let i = 0; i < d.X.length; i++) amax = Math.max(amax, Math.abs(d.X[i]));
  return { weight, act: { format: af, mode: "static", scale: amax / gridOf(af).max } };
}

function fp4ditLayer(
  d: LayerData,
  r: PtqRecipe & { method: "fp4dit" },
  aBits: number,
  iters?: number,
): LayerResult {
  const { outF, inF, kind } = d.info;
  const af = actFormat("fp4dit", aBits);
  const act: ActQuant | undefined = af ? { format: af, mode: "token" } : undefined;
  const Xq = act ? applyAct(act, d.X, d.M, inF) : d.X;
  const wf = kind === "gate_up" || kind === "fc1" ? r.ff1Format : r.wFormat;
  const g = gridOf(wf);
  const groupLen = Math.min(r.groupLen, inF);
  const scales = absmaxScales(d.W, outF, inF, groupLen, g.max);
  const res = adaround(d.W, d.X, Xq, d.M, outF, inF, g, scales, groupLen, { ...r, iters: iters ?? r.iters });
  return {
    weight: { format: wf, w: res.w, scales, groupLen },
    act,
    notes: { adaroundTrace: res.trace, hardErr: res.hardErr },
  };
}

function candidates(base: string, bits: number): string[] {
  return [base, ...fpCandidates(bits).filter((f) => f !== base)];
}

/** Runs the recipe on one layer (searches float64 on the CPU). */
export function quantizeLayer(d: LayerData, r: PtqRecipe, o: QuantizeOptions, index: number): LayerResult {
  return runSearch(quantizeLayerSearch(d, r, o, index));
}

/** Runs the recipe on one layer as a {@link QuadSearch} (FPQ's searches yield their batched errors). */
export function* quantizeLayerSearch(
  d: LayerData,
  r: PtqRecipe,
  o: QuantizeOptions,
  index: number,
): QuadSearch<LayerResult> {
  switch (r.method) {
    case "minmax":
      return minmaxLayer(d, r.format, o.aBits);
    case "fpq":
      return yield* fpqSearch(d, o.wBits, o.aBits, r);
    case "hqdit": {
      const af = actFormat("e2m1", o.aBits);
      const seed = (Math.imul(o.seed + 1, 0x9e3779b1) + index) >>> 0;
      return hqditLayer(d, candidates("e2m1", o.wBits), af ? candidates(af, o.aBits) : [], r, seed);
    }
    case "fp4dit":
      return fp4ditLayer(d, r, o.aBits, o.iters);
  }
}

/** A linear layer to quantize and the offset of its weight in the flat parameter buffer. */
export interface LinearSlot {
  /** The layer. */
  info: LinearInfo;
  /** Offset of its weight [outF, inF] in the flat buffer. */
  offset: number;
}

/**
 * Quantizes the given linear layers of a flat parameter buffer from their calibration inputs (name → X [M, inF];
 * M may differ per layer). Every other parameter is copied unchanged. Searches float64 on the CPU.
 */
export function quantizeLinears(
  flat: Float32Array,
  slots: LinearSlot[],
  inputs: Map<string, Float64Array>,
  r: PtqRecipe,
  o: QuantizeOptions,
): QuantizedModel {
  return runSearch(quantizeLinearsSearch(flat, slots, inputs, r, o));
}

/** {@link quantizeLinears} as a {@link QuadSearch}. */
export function* quantizeLinearsSearch(
  flat: Float32Array,
  slots: LinearSlot[],
  inputs: Map<string, Float64Array>,
  r: PtqRecipe,
  o: QuantizeOptions,
): QuadSearch<QuantizedModel> {
  const params = Float32Array.from(flat);
  const out: QuantizedModel = { params, acts: {}, weights: {}, scales: new Map(), layers: [] };
  for (const [index, { info, offset }] of slots.entries()) {
    const W = Float64Array.from(flat.subarray(offset, offset + info.outF * info.inF));
    const X = inputs.get(info.name);
    if (!X) throw new Error(`ptq: no calibration inputs for ${info.name}`);
    const M = X.length / info.inF;
    const d: LayerData = { info, W, X, M };
    const t0 = performance.now();
    const res = yield* quantizeLayerSearch(d, r, o, index);
    const stored = storedWeight(res, info.inF);
    params.set(Float32Array.from(stored), offset);
    if (res.act) out.acts[info.name] = res.act;
    out.weights[info.name] = {
      format: res.weight.format,
      groupLen: res.weight.groupLen,
      colScale: !!res.colScale,
    };
    out.scales.set(info.name, {
      scales: res.weight.scales,
      colScale: res.colScale,
      shape: [info.outF, res.weight.scales.length / info.outF],
    });
    // report: output error of the stored layer against the float layer on ≤ 512 calibration tokens
    const n = Math.min(M, 512);
    const Xs = X.subarray(0, n * info.inF);
    const Xq = res.act ? applyAct(res.act, Xs, n, info.inF) : Xs;
    const mse = outputMse(Xs, Xq, W, stored, n, info.inF, info.outF);
    out.layers.push({
      name: info.name,
      wFormat: res.weight.format,
      aFormat: res.act ? (res.act.format === "none" ? "none" : res.act.format) : "none",
      outputMse: mse,
      ...(res.notes && Object.keys(res.notes).length ? { notes: res.notes } : {}),
    });
    o.log?.(
      `${info.name}: W ${res.weight.format} A ${res.act?.format ?? "none"} mse ${mse.toExponential(3)} (${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s)`,
    );
  }
  return out;
}

/** Quantizes every linear layer (and, for LLM-FP4, the embedding) of a Llama model from its calibration inputs. */
export function quantizeModel(
  c: ModelConfig,
  flat: Float32Array,
  inputs: Map<string, Float64Array>,
  r: PtqRecipe,
  o: QuantizeOptions,
): QuantizedModel {
  return runSearch(quantizeModelSearch(c, flat, inputs, r, o));
}

/** {@link quantizeModel} as a {@link QuadSearch}. */
export function* quantizeModelSearch(
  c: ModelConfig,
  flat: Float32Array,
  inputs: Map<string, Float64Array>,
  r: PtqRecipe,
  o: QuantizeOptions,
): QuadSearch<QuantizedModel> {
  const lay = paramLayout(c);
  const slots = linearLayers(c).map((info) => ({ info, offset: lay.byName.get(info.name)!.offset }));
  const out = yield* quantizeLinearsSearch(flat, slots, inputs, r, o);
  const params = out.params;
  if (r.method === "fpq" && r.embedding) {
    const t = lay.byName.get("model.embed_tokens.weight")!;
    const [V, D] = t.shape;
    const E = flat.subarray(t.offset, t.offset + t.size);
    let best: { err: number; f: string; w: Float64Array; sc: Float64Array } = {
      err: Infinity,
      f: "e2m1",
      w: new Float64Array(0),
      sc: new Float64Array(0),
    };
    for (const f of fpCandidates(4)) {
      const g = gridOf(f);
      const sc = absmaxScales(E, V, D, D, g.max);
      const w = rtnWeight(E, V, D, f, sc, D).w;
      let err = 0;
      for (let i = 0; i < w.length; i++) err += (w[i] - E[i]) ** 2;
      if (err < best.err) best = { err, f, w, sc };
    }
    params.set(Float32Array.from(best.w), t.offset);
    out.weights[t.name] = { format: best.f, groupLen: D, colScale: false };
    out.scales.set(t.name, { scales: best.sc, shape: [V, 1] });
    out.layers.push({ name: t.name, wFormat: best.f, aFormat: "none", outputMse: best.err / (V * D) });
  }
  return out;
}
