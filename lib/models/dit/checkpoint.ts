/**
 * DiT checkpoints and evaluation-input files in the original DiT code's terms.
 *
 * A checkpoint directory holds `model.safetensors` (F32, the DiT state_dict names and PyTorch shapes of
 * {@link ditLayout}, pos_embed included) and `config.json` with the DiT constructor's keys
 * `input_size, patch_size, in_channels, hidden_size, depth, num_heads, mlp_ratio, num_classes` plus
 * `learn_sigma: false`, `class_dropout_prob: 0.1`, `model_type: "dit"` and an `fp4lab` section for run
 * settings. The safetensors codec, atomic writes and torn-save recovery are the engine's
 * (lib/engine/checkpoint.ts); {@link ditCheckpointFiles} returns the two files so a trainer can put them
 * into its two-phase checkpoint commit next to optimizer state.
 *
 * An inputs file (`deno task eval --inputs`, `tools/dit_check.py --inputs`) is a safetensors file with
 * `x0` [B,1,28,28] F32, `y` [B] I32, `t` [B] I32, `noise` [B,1,28,28] F32. The engine's codec reads and
 * writes F32 only, so this module carries a small F32/I32 codec for it ({@link encodeEvalInputs},
 * {@link decodeEvalInputs}).
 *
 * Public API: {@link ditConfigJson}, {@link ditConfigFromJson}, {@link ditCheckpointFiles},
 * {@link saveDitModel}, {@link loadDitModel}, {@link encodeEvalInputs}, {@link decodeEvalInputs},
 * {@link writeEvalInputs}, {@link readEvalInputs}.
 * @module
 */
import {
  decodeSafetensors,
  decodeTypedSafetensors,
  encodeSafetensors,
  recoverCheckpoint,
  writeFileAtomic,
} from "../../engine/checkpoint.ts";
import type { SchemeChoice } from "../../engine/api.ts";
import { type DitConfig, ditLayout, resolveDitConfig } from "./config.ts";
import { LABEL_DROP } from "./diffusion.ts";
import type { EvalInputs } from "./diffusion.ts";

/** `config.json` of a DiT checkpoint (DiT constructor keys + an `fp4lab` section). */
export function ditConfigJson(c: DitConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model_type: "dit",
    input_size: c.inputSize,
    patch_size: c.patch,
    in_channels: c.inChannels,
    hidden_size: c.hidden,
    depth: c.depth,
    num_heads: c.heads,
    mlp_ratio: c.mlpRatio,
    num_classes: c.numClasses,
    class_dropout_prob: LABEL_DROP,
    learn_sigma: false,
    fp4lab: { family: "dit", ...extra },
  };
}

/** Reads a DiT `config.json` object; throws one line naming `what` when a key is missing or invalid. */
export function ditConfigFromJson(j: Record<string, unknown>, what = "config.json"): DitConfig {
  const num = (k: string): number => {
    const v = j[k];
    if (typeof v !== "number") throw new Error(`${what}: missing or non-numeric "${k}"`);
    return v;
  };
  if (j.learn_sigma === true) throw new Error(`${what}: learn_sigma = true is not supported`);
  try {
    return resolveDitConfig({
      inputSize: num("input_size"),
      patch: num("patch_size"),
      inChannels: num("in_channels"),
      hidden: num("hidden_size"),
      depth: num("depth"),
      heads: num("num_heads"),
      mlpRatio: num("mlp_ratio"),
      numClasses: num("num_classes"),
    });
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

/** The two files of a DiT model: [name, bytes] for model.safetensors and config.json. */
export function ditCheckpointFiles(
  c: DitConfig,
  params: Float32Array,
  extra: Record<string, unknown> = {},
): [string, Uint8Array | string][] {
  const layout = ditLayout(c);
  if (params.length !== layout.totalFloats) {
    throw new Error(`dit checkpoint: ${params.length} parameters, layout wants ${layout.totalFloats}`);
  }
  const tensors = layout.tensors.map((t) => ({
    name: t.name,
    shape: t.shape,
    data: params.slice(t.offset, t.offset + t.size),
  }));
  return [
    ["model.safetensors", encodeSafetensors(tensors, { format: "pt" })],
    ["config.json", JSON.stringify(ditConfigJson(c, extra), null, 2) + "\n"],
  ];
}

/** Writes model.safetensors + config.json into `dir` (created), each atomically. */
export function saveDitModel(
  dir: string,
  c: DitConfig,
  params: Float32Array,
  extra: Record<string, unknown> = {},
): void {
  Deno.mkdirSync(dir, { recursive: true });
  recoverCheckpoint(dir);
  for (const [name, bytes] of ditCheckpointFiles(c, params, extra)) writeFileAtomic(`${dir}/${name}`, bytes);
}

/** A loaded DiT checkpoint. */
export interface LoadedDit {
  /** Model shape. */
  cfg: DitConfig;
  /** Flat parameters in {@link ditLayout} order. */
  params: Float32Array;
  /** The `fp4lab` section of config.json ({} when absent). */
  fp4lab: Record<string, unknown>;
}

/** The recipe labels a DiT checkpoint was trained with (its `fp4lab.scheme`; fp32 when absent). */
export function ditScheme(dir: string): SchemeChoice {
  const { fp4lab } = loadDitModel(dir);
  const s = fp4lab.scheme as SchemeChoice | undefined;
  return s && typeof s.fwd === "string" && typeof s.bwd === "string" ? s : { fwd: "fp32", bwd: "fp32" };
}

/** Loads a DiT checkpoint directory; throws one clear line when a file is missing or corrupt. */
export function loadDitModel(dir: string): LoadedDit {
  recoverCheckpoint(dir);
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`checkpoint ${dir}: config.json not found`);
    throw new Error(`checkpoint ${dir}: config.json is not valid JSON`);
  }
  if (j.model_type !== undefined && j.model_type !== "dit") {
    throw new Error(`checkpoint ${dir}: model_type is "${j.model_type}", not a DiT`);
  }
  const cfg = ditConfigFromJson(j, `checkpoint ${dir}/config.json`);
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(`${dir}/model.safetensors`);
  } catch {
    throw new Error(`checkpoint ${dir}: model.safetensors not found`);
  }
  const what = `checkpoint ${dir}/model.safetensors`;
  const tensors = decodeSafetensors(bytes, what);
  const layout = ditLayout(cfg);
  const params = new Float32Array(layout.totalFloats);
  for (const t of layout.tensors) {
    const got = tensors.get(t.name);
    if (!got) throw new Error(`${what}: tensor ${t.name} is missing`);
    if (got.shape.join(",") !== t.shape.join(",")) {
      throw new Error(`${what}: ${t.name} has shape [${got.shape}], config wants [${t.shape}]`);
    }
    params.set(got.data, t.offset);
  }
  return { cfg, params, fp4lab: (j.fp4lab ?? {}) as Record<string, unknown> };
}

/** Bytes of an inputs file: x0 [B,C,S,S] F32, y [B] I32, t [B] I32, noise [B,C,S,S] F32. */
export function encodeEvalInputs(e: EvalInputs, channels = 1, side = 28): Uint8Array {
  const img = [e.batch, channels, side, side];
  if (e.x0.length !== e.batch * channels * side * side || e.noise.length !== e.x0.length) {
    throw new Error("inputs: x0/noise sizes do not match the batch");
  }
  return encodeSafetensors([
    { name: "x0", shape: img, data: e.x0 },
    { name: "y", shape: [e.batch], data: e.y },
    { name: "t", shape: [e.batch], data: e.t },
    { name: "noise", shape: img, data: e.noise },
  ], { format: "pt" });
}

/** Parses an inputs file; checks names, dtypes, shapes and ranges (t in [0, 999], y in [0, numClasses]). */
export function decodeEvalInputs(bytes: Uint8Array, what = "inputs", numClasses = 10): EvalInputs {
  const m = decodeTypedSafetensors(bytes, what);
  const get = (name: string, dtype: "F32" | "I32") => {
    const t = m.get(name);
    if (!t) throw new Error(`${what}: tensor "${name}" is missing (want x0, y, t, noise)`);
    if ((dtype === "I32") !== (t.data instanceof Int32Array)) {
      throw new Error(`${what}: ${name} must be ${dtype}`);
    }
    return t;
  };
  const x0 = get("x0", "F32"), y = get("y", "I32"), t = get("t", "I32"), noise = get("noise", "F32");
  const B = y.shape[0];
  if (x0.shape.length !== 4 || x0.shape[0] !== B || y.shape.length !== 1 || t.shape.join() !== `${B}`) {
    throw new Error(
      `${what}: want x0 [B,C,H,W], y [B], t [B] with one B (got [${x0.shape}], [${y.shape}], [${t.shape}])`,
    );
  }
  if (noise.shape.join() !== x0.shape.join()) {
    throw new Error(`${what}: noise shape [${noise.shape}] ≠ x0 [${x0.shape}]`);
  }
  for (const v of t.data) if (!(v >= 0 && v <= 999)) throw new Error(`${what}: t = ${v} outside [0, 999]`);
  for (const v of y.data) {
    if (!(v >= 0 && v <= numClasses)) throw new Error(`${what}: y = ${v} outside [0, ${numClasses}]`);
  }
  return {
    batch: B,
    x0: x0.data as Float32Array,
    y: y.data as Int32Array,
    t: t.data as Int32Array,
    noise: noise.data as Float32Array,
  };
}

/** Writes an inputs file atomically. */
export function writeEvalInputs(path: string, e: EvalInputs): void {
  writeFileAtomic(path, encodeEvalInputs(e));
}

/** Reads an inputs file; one-line errors. */
export function readEvalInputs(path: string, numClasses = 10): EvalInputs {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch {
    throw new Error(`cannot read inputs file ${path}`);
  }
  return decodeEvalInputs(bytes, `inputs ${path}`, numClasses);
}
