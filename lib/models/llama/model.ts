/**
 * The Llama model on the GPU (Hugging Face `LlamaForCausalLM` semantics), composed from lib/layers:
 *
 *   x₀ = E[tokens]
 *   per block l:  x ← x + attn(rmsnorm(x))          causal, rotary q/k, fused qkv
 *                 x ← x + swiglu_mlp(rmsnorm(x))
 *   logits = lm_head(rmsnorm(x)),  loss = mean cross-entropy (nats)
 *
 * The whole training step (forward, backward, clip, AdamW) is recorded once as a Program and replayed
 * every step in one submit. The linear layers run the recipe passed in (resolved up front).
 * @module
 */
import type { ModelConfig } from "../../engine/api.ts";
import { Program, type Runtime } from "../../gpu/runtime.ts";
import { Attention, ropeTable } from "../../layers/attention.ts";
import { Embedding, type IdLayout, idLayout, packIds } from "../../layers/embedding.ts";
import { F32_SCHEME, Linear, Scratch } from "../../layers/linear.ts";
import { SwiGluMlp } from "../../layers/mlp.ts";
import { RmsNorm } from "../../layers/norm.ts";
import { AdamW } from "../../layers/optimizer.ts";
import { CrossEntropyLoss } from "../../layers/loss.ts";
import { buildModel, GpuModelBase, type ModelOptions } from "../gpu_model.ts";
import { paramLayout } from "./config.ts";
import type { RunIdLayout } from "../../../kernels/engine/runs.ts";

export { OPT } from "../../layers/optimizer.ts";
export { ropeTable };
/** Batch buffer layout for M tokens and vocabulary V (the token embedding's id buffer). */
export const batchLayout: (M: number, V: number) => IdLayout = idLayout;
/** Packs inputs and targets with the CSR index the embedding gradient uses. */
export const packBatch: (inputs: ArrayLike<number>, targets: ArrayLike<number>, V: number) => Uint32Array =
  packIds;
/** Word offsets inside the per-step batch buffer (packed runs: lib/layers/embedding.ts `packRunIds`). */
export type BatchLayout = IdLayout | RunIdLayout;

/** Options for building a Llama on the GPU ({@link ModelOptions} of every family). */
export type GpuModelOptions = ModelOptions;

/** A Llama instance on the GPU: parameters, optimizer state, activations and recorded programs. */
export class GpuModel extends GpuModelBase {
  /** Model shape. */
  readonly cfg: ModelConfig;
  /** Sequences per batch. */
  readonly batch: number;
  /** Tokens per batch. */
  readonly M: number;
  /** Per-step batch buffer (u32). */
  readonly batchBuf: GPUBuffer;
  /** Batch layout. */
  readonly batchLayout: BatchLayout;
  readonly trainProgram = new Program();
  readonly gradProgram = new Program();
  readonly evalProgram = new Program();
  clipBuffer: GPUBuffer | undefined;

  /** Builds a model on the runtime's device (free it with {@link destroy}). */
  static create(rt: Runtime, cfg: ModelConfig, o: GpuModelOptions): GpuModel {
    return buildModel(rt, () => new GpuModel(rt, cfg, o));
  }

  private constructor(rt: Runtime, cfg: ModelConfig, o: GpuModelOptions) {
    const train = o.train ?? true;
    super(rt, paramLayout(cfg), train, o.runs);
    this.cfg = cfg;
    this.batch = o.batch;
    const T = cfg.context, d = cfg.dModel, f = cfg.ffn, V = cfg.vocab, L = cfg.layers;
    const M = (this.M = o.batch * T), runs = this.pack, K = runs?.runs ?? 1, KM = K * M; // M tokens per run
    const recipe = o.recipe ?? F32_SCHEME;
    const scratch = new Scratch(rt);
    const buf = (floats: number, label: string) => rt.storage(floats * 4, label);
    const embed = new Embedding(rt, { name: "embed", M, d, V, runs });
    this.batchLayout = embed.ids;
    this.batchBuf = rt.storage(this.batchLayout.words * 4, "batch");
    const rope = buf(T * d / cfg.heads, "rope");
    rt.device.queue.writeBuffer(
      rope,
      0,
      ropeTable(T, d / cfg.heads, cfg.ropeTheta) as Float32Array<ArrayBuffer>,
    );
    const P = (n: string) => this.P(n), G = (n: string) => this.G(n);
    const lin = (l: number, module: string, inF: number, outF: number, salt: number) =>
      new Linear(rt, {
        name: `L${l}.${module}`,
        M,
        inF,
        outF,
        scheme: recipe.modules?.[module] ?? recipe, // module-wise precision (lib/schemes)
        salt: l * 16 + salt,
        stepUniform: this.stepUniform,
        scratch,
        textures: o.textures,
        runs,
      });
    const blocks = Array.from({ length: L }, (_, l) => ({
      pre: `model.layers.${l}`,
      norm1: new RmsNorm(rt, { name: `L${l} norm1`, M, d, eps: cfg.rmsEps, runs }),
      attn: new Attention(rt, {
        name: `L${l}`,
        batch: o.batch * K,
        T,
        d,
        heads: cfg.heads,
        causal: true,
        rope,
        qkv: lin(l, "qkv", d, 3 * d, 1),
        o: lin(l, "o", d, d, 2),
        scratch,
        recipe: o.attention,
      }),
      norm2: new RmsNorm(rt, { name: `L${l} norm2`, M, d, eps: cfg.rmsEps, runs }),
      mlp: new SwiGluMlp(rt, {
        name: `L${l}`,
        M: KM,
        f,
        gateUp: lin(l, "gate_up", d, 2 * f, 3),
        down: lin(l, "down", f, d, 4),
        scratch,
      }),
    }));
    const normF = new RmsNorm(rt, { name: "norm_f", M, d, eps: cfg.rmsEps, runs });
    // lm_head: full precision unless the recipe opts it in (forward label "+lm_head")
    const head = new Linear(rt, {
      name: "lm_head",
      M,
      inF: d,
      outF: V,
      scheme: recipe.modules?.lm_head ?? F32_SCHEME,
      salt: 0xffff,
      stepUniform: this.stepUniform,
      scratch,
      runs,
    });
    const w = (name: string) => ({ w: P(name) }), gw = (name: string) => ({ w: G(name) });
    // residual stream x0..x2L (x_{2l+1} after attention, x_{2l+2} after the MLP), normed inputs h1/h2 per block
    const xs = Array.from({ length: 2 * L + 1 }, (_, i) => buf(KM * d, `x${i}`));
    const hs = blocks.map((_, l) => [buf(KM * d, `h1.${l}`), buf(KM * d, `h2.${l}`)]);
    const hf = buf(KM * d, "hf"), logits = buf(KM * V, "logits");

    // ---- forward ----
    const fwd = new Program();
    embed.forward(fwd, this.batchBuf, P("model.embed_tokens.weight"), xs[0]);
    blocks.forEach((b, l) => {
      const [h1, h2] = hs[l];
      b.norm1.forward(fwd, xs[2 * l], P(`${b.pre}.input_layernorm.weight`), h1);
      b.attn.forward(fwd, h1, w(`${b.pre}.qkv`), w(`${b.pre}.o`), xs[2 * l + 1], xs[2 * l]);
      b.norm2.forward(fwd, xs[2 * l + 1], P(`${b.pre}.post_attention_layernorm.weight`), h2);
      b.mlp.forward(fwd, h2, w(`${b.pre}.gate_up`), w(`${b.pre}.down`), xs[2 * l + 2], xs[2 * l + 1]);
    });
    normF.forward(fwd, xs[2 * L], P("model.norm.weight"), hf);
    head.forward(fwd, { buffer: hf }, P("lm_head.weight"), { buffer: logits });

    // ---- eval: summed loss into scalars[1]; training: mean loss, the CE overwrites logits with their gradient ----
    const ce = new CrossEntropyLoss(rt, { M, V, tgtOff: this.batchLayout.tgtOff, runs: runs?.runs });
    this.evalProgram.items.push(...fwd.items);
    ce.evalSum(this.evalProgram, this.batchBuf, logits, this.scalars);
    if (!train) return;

    // ---- backward ----
    const bwd = this.gradProgram;
    bwd.items.push(...fwd.items);
    ce.trainMean(bwd, this.batchBuf, logits, this.scalars);
    const dx = buf(KM * d, "dx"), dh = buf(KM * d, "dh");
    head.backward(
      bwd,
      { buffer: logits },
      { buffer: hf },
      P("lm_head.weight"),
      { buffer: dh },
      G("lm_head.weight"),
    );
    normF.backward(bwd, dh, xs[2 * L], P("model.norm.weight"), G("model.norm.weight"), dx, false);
    for (let l = L - 1; l >= 0; l--) {
      const b = blocks[l], [h1, h2] = hs[l];
      b.mlp.backward(
        bwd,
        dx,
        h2,
        w(`${b.pre}.gate_up`),
        w(`${b.pre}.down`),
        gw(`${b.pre}.gate_up`),
        gw(`${b.pre}.down`),
        dh,
      );
      const n2 = `${b.pre}.post_attention_layernorm.weight`;
      b.norm2.backward(bwd, dh, xs[2 * l + 1], P(n2), G(n2), dx, true);
      b.attn.backward(
        bwd,
        dx,
        h1,
        w(`${b.pre}.qkv`),
        w(`${b.pre}.o`),
        gw(`${b.pre}.qkv`),
        gw(`${b.pre}.o`),
        dh,
      );
      const n1 = `${b.pre}.input_layernorm.weight`;
      b.norm1.backward(bwd, dh, xs[2 * l], P(n1), G(n1), dx, true);
    }
    embed.backward(bwd, this.batchBuf, dx, G("model.embed_tokens.weight"));

    // ---- optimizer ----
    this.trainProgram.items.push(...bwd.items);
    const opt = new AdamW(rt, {
      totalFloats: this.layout.totalFloats,
      decayFloats: this.layout.decayFloats,
      state: this,
      runs: runs?.runs,
    });
    opt.record(this.trainProgram);
    this.clipBuffer = opt.clip;
  }

  /** Uploads one packed batch (see {@link packBatch}). */
  writeBatch(packed: Uint32Array): void {
    this.rt.device.queue.writeBuffer(this.batchBuf, 0, packed as Uint32Array<ArrayBuffer>);
  }
}
