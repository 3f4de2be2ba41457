/**
 * Quantized checkpoints: the fake-quantized weights as f32 under the model's usual tensor names
 * (`model.safetensors`), the activation quantizers and weight formats in `config.json` (`fp4lab.ptq`), and the
 * weight scales in `ptq_scales.safetensors` (`<tensor>.scales` [out, groups], `<tensor>.col_scale` [in]).
 * Files are written atomically; `config.json` last, so a directory with a PTQ config is complete.
 * @module
 */
import type { ModelConfig } from "../engine/api.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type NamedTensor,
  writeFileAtomic,
} from "../engine/checkpoint.ts";
import { hfConfig, toHfTensors } from "../models/llama/checkpoint.ts";
import type { DitConfig } from "../models/dit/config.ts";
import { ditCheckpointFiles } from "../models/dit/checkpoint.ts";
import type { ActQuant } from "./quant.ts";
import type { QuantizedModel, WeightMeta } from "./quantize_model.ts";

/** The `fp4lab.ptq` section of a quantized checkpoint's config.json. */
export interface PtqConfig {
  /** Recipe name. */
  recipe: string;
  /** Bit widths (wXaY). */
  bits: string;
  /** Source checkpoint directory. */
  source: string;
  /** Calibration sequences and seed. */
  calib: number;
  /** Seed. */
  seed: number;
  /** Activation quantizers by linear tensor name. */
  acts: Record<string, ActQuant>;
  /** Weight formats by tensor name. */
  weights: Record<string, WeightMeta>;
  /** Loss before / after on the validation tokens used by `ptq`. */
  lossBefore: number;
  /** Loss after. */
  lossAfter: number;
  /** DiT: validation tuples of lossBefore / lossAfter. */
  evalImages?: number;
  /** DiT: which linears were quantized ("blocks" or "all"). */
  scope?: "blocks" | "all";
}

/** Reads the PTQ section of a checkpoint's config.json (null for a float checkpoint). */
export function readPtqConfig(dir: string): PtqConfig | null {
  let cj: { fp4lab?: { ptq?: PtqConfig } };
  try {
    cj = JSON.parse(Deno.readTextFileSync(`${dir}/config.json`));
  } catch {
    return null;
  }
  return cj.fp4lab?.ptq ?? null;
}

/** Writes a quantized checkpoint into `out`. `extra` keeps the source's fp4lab fields (train config, step). */
export function writeQuantized(
  out: string,
  cfg: ModelConfig,
  q: QuantizedModel,
  ptq: PtqConfig,
  extra: Record<string, unknown>,
): void {
  Deno.mkdirSync(out, { recursive: true });
  writeFileAtomic(
    `${out}/model.safetensors`,
    encodeSafetensors(toHfTensors(cfg, q.params), { format: "pt" }),
  );
  writeScales(out, q, ptq);
  const config = hfConfig(cfg, { ...extra, scheme: { fwd: "fp32", bwd: "fp32" }, ptq });
  writeFileAtomic(`${out}/config.json`, JSON.stringify(config, null, 2) + "\n");
}

function writeScales(out: string, q: QuantizedModel, ptq: PtqConfig): void {
  const st: NamedTensor[] = [];
  for (const [name, s] of q.scales) {
    st.push({ name: `${name}.scales`, shape: s.shape, data: Float32Array.from(s.scales) });
    if (s.colScale) {
      st.push({ name: `${name}.col_scale`, shape: [s.colScale.length], data: Float32Array.from(s.colScale) });
    }
  }
  writeFileAtomic(`${out}/ptq_scales.safetensors`, encodeSafetensors(st, { recipe: ptq.recipe }));
}

/**
 * Writes a quantized DiT checkpoint into `out`: the DiT's own model.safetensors (fake-quantized weights, usual
 * names) and config.json (with `fp4lab.ptq`), plus ptq_scales.safetensors. `extra` keeps the source's fp4lab
 * fields (train config, step).
 */
export function writeQuantizedDit(
  out: string,
  cfg: DitConfig,
  q: QuantizedModel,
  ptq: PtqConfig,
  extra: Record<string, unknown>,
): void {
  Deno.mkdirSync(out, { recursive: true });
  const files = ditCheckpointFiles(cfg, q.params, { ...extra, scheme: { fwd: "fp32", bwd: "fp32" }, ptq });
  const model = files.find(([n]) => n === "model.safetensors")![1];
  const config = files.find(([n]) => n === "config.json")![1];
  writeFileAtomic(`${out}/model.safetensors`, model);
  writeScales(out, q, ptq);
  writeFileAtomic(`${out}/config.json`, config);
}

/** Reads the scales file of a quantized checkpoint. */
export function readScales(dir: string): Map<string, NamedTensor> {
  return decodeSafetensors(
    Deno.readFileSync(`${dir}/ptq_scales.safetensors`),
    `checkpoint ${dir}/ptq_scales.safetensors`,
  );
}
