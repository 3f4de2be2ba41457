/**
 * Checkpoints in Hugging Face Llama layout: `model.safetensors` (F32, HF tensor names) and
 * `config.json` (HF keys), plus `optimizer.safetensors` (AdamW moments) and `trainer_state.json`
 * (step = data position, curve) so that a resumed run continues bit-identically.
 * A checkpoint is several files, so a kill between two renames could pair new weights with an old
 * step. Saving is therefore a two-phase commit: every file is first written as `<name>.next`, then a
 * `CHECKPOINT_COMMIT` marker is written, then the `.next` files are renamed into place and the marker
 * removed. Every reader first calls {@link recoverCheckpoint}: with the marker present it finishes the
 * renames (roll forward), without it any `.next` file is a torn save and is deleted (roll back).
 * @module
 */
import type { ModelConfig, SchemeChoice, TrainConfig } from "./api.ts";
import { fromHfTensors, hfConfig, modelConfigFromHf, toHfTensors } from "../models/llama/checkpoint.ts";

/** One tensor of a safetensors file: F32 or I32 values. */
export interface TypedTensor {
  /** Name. */
  name: string;
  /** Shape. */
  shape: number[];
  /** Values (F32 or I32). */
  data: Float32Array | Int32Array;
}

/** One F32 tensor to store (weights, optimizer state). */
export interface NamedTensor extends TypedTensor {
  /** Values (F32). */
  data: Float32Array;
}

/** Writes `bytes` to `path` atomically (temporary file + rename). */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.${Deno.pid}.tmp`;
  if (typeof bytes === "string") Deno.writeTextFileSync(tmp, bytes);
  else Deno.writeFileSync(tmp, bytes);
  Deno.renameSync(tmp, path);
}

const COMMIT = "CHECKPOINT_COMMIT";
const CHECKPOINT_FILES = ["model.safetensors", "config.json", "optimizer.safetensors", "trainer_state.json"];

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Completes or discards an interrupted save in `dir` (see the module doc). Idempotent; a directory
 * that does not exist is left alone.
 */
export function recoverCheckpoint(dir: string): void {
  if (!exists(dir)) return;
  const committed = exists(`${dir}/${COMMIT}`);
  for (const name of CHECKPOINT_FILES) {
    const next = `${dir}/${name}.next`;
    if (!exists(next)) continue;
    if (committed) Deno.renameSync(next, `${dir}/${name}`);
    else Deno.removeSync(next);
  }
  if (committed) Deno.removeSync(`${dir}/${COMMIT}`);
}

/** Serialises F32/I32 tensors as safetensors. */
export function encodeSafetensors(tensors: TypedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) {
      throw new Error(`safetensors: ${t.name} has ${t.data.length} values for shape ${t.shape}`);
    }
    const dtype = t.data instanceof Int32Array ? "I32" : "F32";
    header[t.name] = { dtype, shape: t.shape, data_offsets: [off, off + n * 4] };
    off += n * 4;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += " ";
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let o = 8 + hb.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), o);
    o += t.data.byteLength;
  }
  return out;
}

/**
 * Parses a safetensors file whose tensors are F32 or I32 (`dtypes` narrows that); throws one line naming `what`
 * when it is corrupt or holds another dtype.
 */
export function decodeTypedSafetensors(
  bytes: Uint8Array,
  what = "safetensors",
  dtypes: readonly ("F32" | "I32")[] = ["F32", "I32"],
): Map<string, TypedTensor> {
  const bad = (m: string): never => {
    throw new Error(`${what}: ${m}`);
  };
  if (bytes.length < 8) bad("file too short");
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (n <= 0 || 8 + n > bytes.length) bad("bad header length (not a safetensors file?)");
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    return bad("header is not JSON");
  }
  const body = bytes.subarray(8 + n);
  const out = new Map<string, TypedTensor>();
  for (const [name, h] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (!(dtypes as readonly string[]).includes(h.dtype)) {
      bad(`${name}: dtype ${h.dtype} (${dtypes.join(" or ")} expected)`);
    }
    const [a, b] = h.data_offsets ?? [];
    const count = (h.shape ?? []).reduce((x: number, y: number) => x * y, 1);
    if (!(a >= 0 && b <= body.length && b - a === count * 4)) bad(`${name}: data offsets out of range`);
    const raw = body.slice(a, b).buffer;
    out.set(name, {
      name,
      shape: h.shape,
      data: h.dtype === "I32" ? new Int32Array(raw) : new Float32Array(raw),
    });
  }
  return out;
}

/** Parses a safetensors file of F32 tensors (weights, optimizer state); throws one line when it is corrupt. */
export function decodeSafetensors(bytes: Uint8Array, what = "safetensors"): Map<string, NamedTensor> {
  return decodeTypedSafetensors(bytes, what, ["F32"]) as Map<string, NamedTensor>;
}

/** What a training checkpoint holds besides the weights. */
export interface TrainerState {
  /** Steps completed (= data position: batches are a pure function of seed and step). */
  step: number;
  /** The run's config (resume requires an identical one). */
  config: TrainConfig;
  /** Curve so far. */
  curve: import("./api.ts").CurvePoint[];
  /** Train losses read so far (for the final-loss average). */
  trainLosses: number[];
  /** Adapter the state was produced on (bit-identity holds on the same adapter). */
  adapter: string;
  /** Training tokens consumed. */
  tokens: number;
}

/** Writes a full checkpoint into `dir` (created if needed). */
export function saveCheckpoint(
  dir: string,
  cfg: ModelConfig,
  params: Float32Array,
  moments: { m: Float32Array; v: Float32Array } | null,
  state: TrainerState | null,
  scheme: SchemeChoice,
): void {
  Deno.mkdirSync(dir, { recursive: true });
  recoverCheckpoint(dir);
  const files: [string, Uint8Array | string][] = [
    ["model.safetensors", encodeSafetensors(toHfTensors(cfg, params), { format: "pt" })],
    [
      "config.json",
      JSON.stringify(
        hfConfig(cfg, { scheme, train: state?.config ?? null, step: state?.step ?? null }),
        null,
        2,
      ) + "\n",
    ],
  ];
  if (moments && state) {
    files.push([
      "optimizer.safetensors",
      encodeSafetensors([
        { name: "exp_avg", shape: [moments.m.length], data: moments.m },
        { name: "exp_avg_sq", shape: [moments.v.length], data: moments.v },
      ], { step: String(state.step) }),
    ]);
    files.push(["trainer_state.json", JSON.stringify(state) + "\n"]);
  }
  for (const [name, bytes] of files) writeFileAtomic(`${dir}/${name}.next`, bytes);
  writeFileAtomic(`${dir}/${COMMIT}`, files.map(([name]) => name).join("\n") + "\n");
  recoverCheckpoint(dir);
}

/** Loaded model weights and settings of a checkpoint directory. */
export interface LoadedModel {
  /** Model shape. */
  cfg: ModelConfig;
  /** Flat parameters. */
  params: Float32Array;
  /** Scheme the model was trained with (fp32:fp32 when absent). */
  scheme: SchemeChoice;
}

/** Loads `config.json` + `model.safetensors`; throws one clear line when missing or corrupt. */
export function loadModel(dir: string): LoadedModel {
  recoverCheckpoint(dir);
  let cj: Record<string, unknown>;
  try {
    cj = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`checkpoint ${dir}: config.json not found`);
    throw new Error(`checkpoint ${dir}: config.json is not valid JSON`);
  }
  const cfg = modelConfigFromHf(cj, `checkpoint ${dir}/config.json`);
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(`${dir}/model.safetensors`);
  } catch {
    throw new Error(`checkpoint ${dir}: model.safetensors not found`);
  }
  const tensors = decodeSafetensors(bytes, `checkpoint ${dir}/model.safetensors`);
  const params = fromHfTensors(cfg, tensors, `checkpoint ${dir}/model.safetensors`);
  const fp = (cj.fp4lab ?? {}) as { scheme?: SchemeChoice };
  return { cfg, params, scheme: fp.scheme ?? { fwd: "fp32", bwd: "fp32" } };
}

/** Loads the resumable state of `dir`, or null when there is none. */
export function loadTrainerState(
  dir: string,
): { state: TrainerState; m: Float32Array; v: Float32Array } | null {
  recoverCheckpoint(dir);
  let state: TrainerState;
  try {
    state = JSON.parse(Deno.readTextFileSync(`${dir}/trainer_state.json`));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`checkpoint ${dir}: trainer_state.json is corrupt`);
  }
  const opt = decodeSafetensors(
    Deno.readFileSync(`${dir}/optimizer.safetensors`),
    `checkpoint ${dir}/optimizer.safetensors`,
  );
  const m = opt.get("exp_avg")?.data, v = opt.get("exp_avg_sq")?.data;
  if (!m || !v) throw new Error(`checkpoint ${dir}: optimizer.safetensors lacks exp_avg/exp_avg_sq`);
  const cj = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`)) as { fp4lab?: { step?: number } };
  if (cj.fp4lab?.step !== state.step) {
    throw new Error(
      `checkpoint ${dir}: config.json is from step ${cj.fp4lab?.step}, trainer_state from ${state.step}`,
    );
  }
  return { state, m, v };
}
