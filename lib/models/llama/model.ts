/**
 * The Llama model on the GPU (Hugging Face `LlamaForCausalLM` semantics), composed from lib/layers:
 *
 *   x₀ = E[tokens]
 *   per block l:  x ← x + attn(rmsnorm(x))          causal, rotary q/k, fused qkv
 *                 x ← x + swiglu_mlp(rmsnorm(x))
 *   logits = lm_head(rmsnorm(x)),  loss = mean cross-entropy (nats)
 *
 * The config and the parameter layout with Hugging Face names are in ./config.ts. The whole training step
 * (forward, backward, clip, AdamW) is recorded once as a Program (lib/models/gpu_model.ts) and replayed every
 * step in one submit. The linear layers run the recipe passed in (resolved up front). With `runs` = K packed
 * runs, every activation holds K·M rows, one run after another (lib/layers/record.ts `Runs`).
 * @module
 */
import type { ModelConfig } from "../../engine/api.ts";
import { Program, type Runtime } from "../../gpu/runtime.ts";
import { Attention, ropeBuffer, ropeTable } from "../../layers/attention.ts";
import { Embedding, packIds } from "../../layers/embedding.ts";
import { F32_SCHEME, type LinearParams } from "../../layers/linear.ts";
import { SwiGluMlp } from "../../layers/mlp.ts";
import { RmsNorm } from "../../layers/norm.ts";
import { CrossEntropyLoss } from "../../layers/loss.ts";
import { buildModel, GpuModelBase, type ModelOptions } from "../gpu_model.ts";
import { paramLayout } from "./config.ts";

export { ropeTable };
/** Packs inputs and targets with the CSR index the embedding gradient uses (packed runs: `packRunIds`). */
export const packBatch: (inputs: ArrayLike<number>, targets: ArrayLike<number>, V: number) => Uint32Array =
  packIds;

/** Parameter names of block l in ./config.ts's layout: norm1, qkv, o, norm2, gate_up, down. */
function blockParams(l: number): string[] {
  const n = ["input_layernorm.weight", "qkv", "o", "post_attention_layernorm.weight", "gate_up", "down"];
  return n.map((s) => `model.layers.${l}.${s}`);
}

/** A Llama instance on the GPU: parameters, optimizer state, activations and recorded programs. */
export class GpuModel extends GpuModelBase {
  /** Model shape. */
  readonly cfg: ModelConfig;
  /** Sequences per batch. */
  readonly batch: number;
  /** Tokens per batch (of each run). */
  readonly M: number;
  /** Per-step batch buffer (u32): ids, targets and the embedding gradient's index ({@link packBatch}). */
  readonly batchBuf: GPUBuffer;

  /** Builds a model on the runtime's device (free it with {@link destroy}). */
  static create(rt: Runtime, cfg: ModelConfig, o: ModelOptions): GpuModel {
    return buildModel(rt, () => new GpuModel(rt, cfg, o));
  }

  private constructor(rt: Runtime, cfg: ModelConfig, o: ModelOptions) {
    super(rt, paramLayout(cfg), o.train ?? true, o.runs);
    this.cfg = cfg;
    this.batch = o.batch;
    const { context: T, dModel: d, ffn: f, vocab: V, layers: L, heads, rmsEps: eps } = cfg, runs = this.pack;
    // M tokens per run; packed runs stack K runs of sequences into every activation (K·M rows)
    const M = (this.M = o.batch * T), batch = o.batch * (runs?.runs ?? 1), KM = batch * T;
    const { recipe = F32_SCHEME, textures } = o, scratch = this.scratch;
    // the recipe of module m (module-wise precision, lib/schemes); lm_head's default is f32
    const scheme = (m: string, base = recipe) => recipe.modules?.[m] ?? base;
    const lin = (l: number, m: string, inF: number, outF: number, salt: number) =>
      this.linear({ name: `L${l}.${m}`, M, inF, outF, scheme: scheme(m), salt: l * 16 + salt, textures });

    // ---- layers: token embedding, L blocks (attention and MLP, each after its norm), final norm, head ----
    const embed = new Embedding(rt, { name: "embed", M, d, V, runs });
    this.batchBuf = rt.storage(embed.ids.words * 4, "batch");
    const rope = ropeBuffer(rt, T, d / heads, cfg.ropeTheta);
    const blocks = Array.from({ length: L }, (_, l) => ({
      norm1: new RmsNorm(rt, { name: `L${l} norm1`, M, d, eps, runs }),
      attn: new Attention(rt, {
        name: `L${l}`,
        batch,
        T,
        d,
        heads,
        causal: true,
        rope,
        qkv: lin(l, "qkv", d, 3 * d, 1),
        o: lin(l, "o", d, d, 2),
        scratch,
        recipe: o.attention,
      }),
      norm2: new RmsNorm(rt, { name: `L${l} norm2`, M, d, eps, runs }),
      mlp: new SwiGluMlp(rt, {
        name: `L${l}`,
        M: KM,
        f,
        gateUp: lin(l, "gate_up", d, 2 * f, 3),
        down: lin(l, "down", f, d, 4),
        scratch,
      }),
    }));
    const normF = new RmsNorm(rt, { name: "norm_f", M, d, eps, runs });
    // lm_head: f32 unless the recipe opts it in (forward label "+lm_head"); textures whenever they fit
    const head = this.linear({
      name: "lm_head",
      M,
      inF: d,
      outF: V,
      scheme: scheme("lm_head", F32_SCHEME),
      salt: 0xffff,
    });

    // ---- activations: residual stream x0..x2L (x_{2l+1} after attention), normed inputs h1, h2 ----
    const act = (label: string, width = d) => this.buffer(KM * width, label);
    const xs = Array.from({ length: 2 * L + 1 }, (_, i) => act(`x${i}`));
    const hs = blocks.map((_, l) => [act(`h1.${l}`), act(`h2.${l}`)]);
    const hf = act("hf"), logits = act("logits", V);
    const P = (n: string) => this.P(n), G = (n: string) => this.G(n);
    const w = (n: string): LinearParams => ({ w: P(n) }), gw = (n: string): LinearParams => ({ w: G(n) });

    // ---- forward ----
    const fwd = new Program();
    embed.forward(fwd, this.batchBuf, P("model.embed_tokens.weight"), xs[0]);
    blocks.forEach((b, l) => {
      const [h1, h2] = hs[l], [n1, qkv, o, n2, gu, down] = blockParams(l);
      b.norm1.forward(fwd, xs[2 * l], P(n1), h1);
      b.attn.forward(fwd, h1, w(qkv), w(o), xs[2 * l + 1], xs[2 * l]);
      b.norm2.forward(fwd, xs[2 * l + 1], P(n2), h2);
      b.mlp.forward(fwd, h2, w(gu), w(down), xs[2 * l + 2], xs[2 * l + 1]);
    });
    normF.forward(fwd, xs[2 * L], P("model.norm.weight"), hf);
    head.forward(fwd, { buffer: hf }, P("lm_head.weight"), { buffer: logits });

    // ---- loss, then backward (and the optimizer after it: lib/models/gpu_model.ts) ----
    const ce = new CrossEntropyLoss(rt, { M, V, tgtOff: embed.ids.tgtOff, runs: runs?.runs });
    this.record(fwd, ce, [this.batchBuf, logits], (bwd) => {
      const dx = act("dx"), dh = act("dh");
      const dlogits = { buffer: logits }; // the loss overwrote the logits with their gradient
      head.backward(bwd, dlogits, { buffer: hf }, P("lm_head.weight"), { buffer: dh }, G("lm_head.weight"));
      normF.backward(bwd, dh, xs[2 * L], P("model.norm.weight"), G("model.norm.weight"), dx, false);
      for (let l = L - 1; l >= 0; l--) {
        const b = blocks[l], [h1, h2] = hs[l], [n1, qkv, o, n2, gu, down] = blockParams(l);
        b.mlp.backward(bwd, dx, h2, w(gu), w(down), gw(gu), gw(down), dh);
        b.norm2.backward(bwd, dh, xs[2 * l + 1], P(n2), G(n2), dx, true);
        b.attn.backward(bwd, dx, h1, w(qkv), w(o), gw(qkv), gw(o), dh);
        b.norm1.backward(bwd, dh, xs[2 * l], P(n1), G(n1), dx, true);
      }
      embed.backward(bwd, this.batchBuf, dx, G("model.embed_tokens.weight"));
    });
  }

  /** Uploads one packed batch (see {@link packBatch}). */
  writeBatch(packed: Uint32Array): void {
    this.rt.device.queue.writeBuffer(this.batchBuf, 0, packed as Uint32Array<ArrayBuffer>);
  }
}
