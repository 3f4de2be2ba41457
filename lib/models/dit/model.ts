/**
 * The DiT on the GPU (the original DiT code's semantics, ε-prediction), composed from lib/layers:
 *
 *   x₀ = patches·Wₚᵀ + b + pos_embed                       (patch embedding: a linear over p×p patches)
 *   c  = mlp₂(silu(mlp₁(freq(t)))) + table[y],  s = silu(c)
 *   per block:  (shift₁, scale₁, gate₁, shift₂, scale₂, gate₂) = adaLN(s)   (zero-initialised linear)
 *               x ← x + gate₁ · attn(LN(x)·(1+scale₁)+shift₁)               bidirectional, no rotary
 *               x ← x + gate₂ · gelu_mlp(LN(x)·(1+scale₂)+shift₂)
 *   out = linear(LN(x)·(1+scale)+shift),  (shift, scale) = adaLN_final(s);   loss = mean (out − ε)²
 *
 * Tokens are padded per image to a multiple of 8 (49 → 56 for 28×28 with p = 4, the GEMM tile): padding
 * rows carry zero patches, are masked as attention keys and excluded from the loss, so they never reach a
 * real token or a gradient. The noising (q_sample), label dropout and timestep frequencies are computed on
 * the CPU per step (lib/models/dit/diffusion.ts). Every linear but the patch embedding and the final linear
 * (f32, like Llama's lm_head: their p·p·C = 16 side is narrower than the 32-blocks of the FP4 recipes) runs the
 * recipe passed in.
 * @module
 */
import * as K from "../../../kernels/engine/ops.ts";
import { Program, type Runtime } from "../../gpu/runtime.ts";
import { Attention } from "../../layers/attention.ts";
import { Embedding, packIds } from "../../layers/embedding.ts";
import { F32_SCHEME, type LinearParams } from "../../layers/linear.ts";
import { GeluMlp } from "../../layers/mlp.ts";
import { AdaLayerNorm } from "../../layers/norm.ts";
import { kernel } from "../../layers/record.ts";
import { Ema } from "../../layers/ema.ts";
import { MseLoss } from "../../layers/loss.ts";
import { buildModel, GpuModelBase, type ModelOptions } from "../gpu_model.ts";
import type { ParamLayout, ParamTensor } from "../layout.ts";
import { paddedTokens, patchify, unpatchify } from "./patches.ts";
import { type DitConfig, ditLayout, ditPatchDim, ditTokens, FREQ_DIM, posEmbed2d } from "./config.ts";

export { paddedTokens, patchify, unpatchify };
import { LN_EPS, timestepEmbedding } from "./reference.ts";

/**
 * Options for building a GPU DiT: `batch` images (a multiple of 8; of 32 for recipes with 32-blocks along
 * tokens: the adaLN and t-MLP linears have one row per image).
 */
export type GpuDitOptions = ModelOptions & {
  /** AdamW weight decay of the linear weights (default the engine's 0.1; the original DiT uses 0). */
  weightDecay?: number;
  /** Keep an EMA of the weights on the GPU, updated by the training program after AdamW ({@link GpuDit.ema}). */
  ema?: boolean;
};

/** The DiT layout as a generic {@link ParamLayout} (decayed prefix: the linear weights). */
function asLayout(c: DitConfig): ParamLayout {
  const d = ditLayout(c);
  const tensors = d.tensors.map((t): ParamTensor => ({
    name: t.name,
    shape: [t.shape[0], t.size / t.shape[0]],
    offset: t.offset,
    size: t.size,
    decay: t.linear,
    init: { kind: "zeros" }, // initial values come from initDitParams (DiT's own init rules)
    hf: [[t.name, t.shape[0]]],
  }));
  return {
    tensors,
    totalFloats: d.totalFloats,
    decayFloats: d.linearFloats,
    byName: new Map(tensors.map((t) => [t.name, t])),
  };
}

/** Per-step inputs in the model's terms (see {@link GpuDit.writeInputs}). */
export interface DitStepInputs {
  /** Noisy images x_t [B, C, H, W]. */
  x: ArrayLike<number>;
  /** Timesteps [B]. */
  t: ArrayLike<number>;
  /** Labels [B] (numClasses = null class). */
  y: ArrayLike<number>;
  /** Target ε [B, C, H, W] (training and evaluation; absent for prediction). */
  target?: ArrayLike<number>;
}

/** A DiT instance on the GPU. */
export class GpuDit extends GpuModelBase {
  /** Model shape. */
  readonly cfg: DitConfig;
  /** Images per batch. */
  readonly batch: number;
  /** Padded tokens per image. */
  readonly Tp: number;
  /** Forward only (ε̂ into {@link out}). */
  readonly predictProgram = new Program();
  /** Final-layer output [B·Tp, p·p·C] (ε̂ patches; overwritten by its gradient in training). */
  readonly out: GPUBuffer;
  /** The weights' moving average (training models built with `ema`); write its decay each step. */
  readonly ema?: Ema;
  readonly #xp: GPUBuffer;
  readonly #tf: GPUBuffer;
  readonly #ids: GPUBuffer;
  readonly #target: GPUBuffer;

  /** Builds a model on the runtime's device (free it with {@link destroy}). */
  static create(rt: Runtime, cfg: DitConfig, o: GpuDitOptions): GpuDit {
    return buildModel(rt, () => new GpuDit(rt, cfg, o));
  }

  private constructor(rt: Runtime, cfg: DitConfig, o: GpuDitOptions) {
    super(rt, asLayout(cfg), o.train ?? true);
    this.cfg = cfg;
    const B = (this.batch = o.batch);
    const h = cfg.hidden, f = cfg.mlpRatio * h, P = ditPatchDim(cfg), T = ditTokens(cfg);
    const Tp = (this.Tp = paddedTokens(cfg)), M = B * Tp, V = cfg.numClasses + 1, L = cfg.depth;
    if (B % 8) throw new Error(`model: DiT batch must be a multiple of 8 (got ${B})`);
    if (P % 8) throw new Error(`model: p·p·C = ${P} must be a multiple of 8 (patch 4 on one channel: 16)`);
    if (h % 32) throw new Error(`model: DiT width must be a multiple of 32 (got ${h})`);
    if ((h / cfg.heads) % 8) throw new Error(`model: head size ${h / cfg.heads} must be a multiple of 8`);
    const recipe = o.recipe ?? F32_SCHEME, scratch = this.scratch;
    const buf = (floats: number, label: string) => this.buffer(floats, label);
    let salt = 0;
    const f32 = F32_SCHEME;
    const lin = (name: string, rows: number, inF: number, outF: number, scheme = recipe) =>
      this.linear({ name, M: rows, inF, outF, scheme, salt: ++salt * 16 });
    const P_ = (n: string): LinearParams => ({ w: this.P(`${n}.weight`), b: this.P(`${n}.bias`) });
    const G_ = (n: string): LinearParams => ({ w: this.G(`${n}.weight`), b: this.G(`${n}.bias`) });

    // inputs and constants
    this.#xp = buf(M * P, "patches");
    this.#tf = buf(B * FREQ_DIM, "t freq");
    const embed = new Embedding(rt, { name: "y_embed", M: B, d: h, V });
    this.#ids = rt.storage(embed.ids.words * 4, "labels");
    this.#target = buf(M * P, "target");
    const pos = new Float32Array(M * h), pe = posEmbed2d(h, cfg.inputSize / cfg.patch);
    for (let b = 0; b < B; b++) for (let k = 0; k < T * h; k++) pos[b * Tp * h + k] = pe[k];
    const posBuf = buf(M * h, "pos tiled");
    rt.device.queue.writeBuffer(posBuf, 0, pos);

    // layers
    // the patch embedding and the final linear stay f32 (their p·p·C = 16 side is narrower than a 32-block), as
    // lm_head does in the Llama; every other linear (t-MLP, adaLN, qkv, proj, fc1, fc2) runs the recipe
    const xEmb = lin("x_embedder", M, P, h, f32);
    const t1 = lin("t_embedder.0", B, FREQ_DIM, h), t2 = lin("t_embedder.2", B, h, h);
    const blocks = Array.from({ length: L }, (_, i) => {
      const pre = `blocks.${i}`, stride = 6 * h;
      const ln = (k: number) =>
        new AdaLayerNorm(rt, {
          name: `${pre} ln${k + 1}`,
          B,
          T: Tp,
          d: h,
          eps: LN_EPS,
          stride,
          shiftAt: 3 * k * h,
          scaleAt: (3 * k + 1) * h,
        });
      return {
        pre,
        ada: lin(`${pre}.adaLN`, B, h, 6 * h),
        ln1: ln(0),
        attn: new Attention(rt, {
          name: `${pre}.attn`,
          batch: B,
          T: Tp,
          d: h,
          heads: cfg.heads,
          causal: false,
          keys: T,
          qkv: lin(`${pre}.qkv`, M, h, 3 * h),
          o: lin(`${pre}.proj`, M, h, h),
          scratch,
          recipe: o.attention,
        }),
        ln2: ln(1),
        mlp: new GeluMlp(rt, {
          name: `${pre}.mlp`,
          M,
          f,
          fc1: lin(`${pre}.fc1`, M, h, f),
          fc2: lin(`${pre}.fc2`, M, f, h),
          scratch,
        }),
        mod: buf(B * 6 * h, `${pre} mod`),
        xs: [buf(M * h, `${pre} x mid`), buf(M * h, `${pre} x out`)],
        m: [buf(M * h, `${pre} m1`), buf(M * h, `${pre} m2`)],
        ao: buf(M * h, `${pre} attn out`),
        mo: buf(M * h, `${pre} mlp out`),
      };
    });
    const fAda = lin("final.adaLN", B, h, 2 * h), fLin = lin("final.linear", M, h, P, f32);
    const lnF = new AdaLayerNorm(rt, {
      name: "final ln",
      B,
      T: Tp,
      d: h,
      eps: LN_EPS,
      stride: 2 * h,
      shiftAt: 0,
      scaleAt: h,
    });
    const x0 = buf(M * h, "x0"), a1 = buf(B * h, "t a1"), s1 = buf(B * h, "t s1"), yemb = buf(B * h, "y emb");
    const c = buf(B * h, "c"),
      sc = buf(B * h, "silu c"),
      fmod = buf(B * 2 * h, "final mod"),
      mf = buf(M * h, "final m");
    this.out = buf(M * P, "out");
    const gate = (
      prog: Program,
      name: string,
      x: GPUBuffer,
      mod: GPUBuffer,
      hh: GPUBuffer,
      y: GPUBuffer,
      at: number,
    ) =>
      kernel(rt, prog, name, `gate:${B}:${Tp}:${h}:${6 * h}:${at}`, () => K.gateFwd(B, Tp, h, 6 * h, at), [
        x,
        mod,
        hh,
        y,
      ], M * h / 4);
    const silu = (prog: Program, name: string, x: GPUBuffer, y: GPUBuffer) =>
      kernel(rt, prog, name, `silu:${B * h}`, () => K.siluFwd(B * h), [x, y], B * h / 4);

    // ---- forward ----
    const fwd = this.predictProgram;
    xEmb.forward(fwd, { buffer: this.#xp }, this.P("x_embedder.proj.weight"), { buffer: x0 }, {
      buffer: posBuf,
    }, {
      bias: this.P("x_embedder.proj.bias"),
    });
    t1.forward(fwd, { buffer: this.#tf }, P_("t_embedder.mlp.0").w, { buffer: a1 }, undefined, {
      bias: P_("t_embedder.mlp.0").b,
    });
    silu(fwd, "t silu", a1, s1);
    embed.forward(fwd, this.#ids, this.P("y_embedder.embedding_table.weight"), yemb);
    t2.forward(fwd, { buffer: s1 }, P_("t_embedder.mlp.2").w, { buffer: c }, { buffer: yemb }, {
      bias: P_("t_embedder.mlp.2").b,
    });
    silu(fwd, "c silu", c, sc);
    let x = x0;
    for (const b of blocks) {
      b.ada.forward(fwd, { buffer: sc }, P_(`${b.pre}.adaLN_modulation.1`).w, { buffer: b.mod }, undefined, {
        bias: P_(`${b.pre}.adaLN_modulation.1`).b,
      });
      b.ln1.forward(fwd, x, b.mod, b.m[0]);
      b.attn.forward(fwd, b.m[0], P_(`${b.pre}.attn.qkv`), P_(`${b.pre}.attn.proj`), b.ao);
      gate(fwd, `${b.pre} gate1`, x, b.mod, b.ao, b.xs[0], 2 * h);
      b.ln2.forward(fwd, b.xs[0], b.mod, b.m[1]);
      b.mlp.forward(fwd, b.m[1], P_(`${b.pre}.mlp.fc1`), P_(`${b.pre}.mlp.fc2`), b.mo);
      gate(fwd, `${b.pre} gate2`, b.xs[0], b.mod, b.mo, b.xs[1], 5 * h);
      x = b.xs[1];
    }
    fAda.forward(fwd, { buffer: sc }, P_("final_layer.adaLN_modulation.1").w, { buffer: fmod }, undefined, {
      bias: P_("final_layer.adaLN_modulation.1").b,
    });
    lnF.forward(fwd, x, fmod, mf);
    fLin.forward(fwd, { buffer: mf }, P_("final_layer.linear").w, { buffer: this.out }, undefined, {
      bias: P_("final_layer.linear").b,
    });

    // ---- loss (eval: summed squared error; training: mean ε-MSE, its gradient over the output), backward,
    // then the optimizer (lib/models/gpu_model.ts; pos_embed's gradient stays zero: it never moves) ----
    const mse = new MseLoss(rt, { M, N: P, T: Tp, real: T });
    this.record(fwd, mse, [this.out, this.#target], (bwd) => {
      const dx = buf(M * h, "dx"), dm = buf(M * h, "dm"), dh = buf(M * h, "dh");
      const dsc = buf(B * h, "dsc"),
        dtmp = buf(B * h, "dsc part"),
        dc = buf(B * h, "dc"),
        ds1 = buf(B * h, "ds1");
      const da1 = buf(B * h, "da1"), dmod = buf(B * 6 * h, "dmod"), dfmod = buf(B * 2 * h, "dfmod");
      fLin.backward(
        bwd,
        { buffer: this.out },
        { buffer: mf },
        P_("final_layer.linear").w,
        { buffer: dm },
        G_("final_layer.linear").w,
        G_("final_layer.linear").b,
      );
      lnF.backward(bwd, dm, x, fmod, dfmod, dx, false);
      fAda.backward(
        bwd,
        { buffer: dfmod },
        { buffer: sc },
        P_("final_layer.adaLN_modulation.1").w,
        { buffer: dsc },
        G_("final_layer.adaLN_modulation.1").w,
        G_("final_layer.adaLN_modulation.1").b,
      );
      const gateB = (name: string, mod: GPUBuffer, hh: GPUBuffer, dH: GPUBuffer, at: number) => {
        kernel(
          rt,
          bwd,
          `${name} dgate`,
          `gatebg:${B}:${Tp}:${h}:${at}`,
          () => K.gateBwdGate(B, Tp, h, 6 * h, at),
          [dx, hh, dmod],
          B * h / 4,
        );
        kernel(rt, bwd, `${name} dh`, `gatebh:${B}:${Tp}:${h}:${at}`, () => K.gateBwdH(B, Tp, h, 6 * h, at), [
          dx,
          mod,
          dH,
        ], M * h / 4);
      };
      for (let i = L - 1; i >= 0; i--) {
        const b = blocks[i], xin = i ? blocks[i - 1].xs[1] : x0;
        gateB(`${b.pre} gate2`, b.mod, b.mo, dh, 5 * h);
        b.mlp.backward(
          bwd,
          dh,
          b.m[1],
          P_(`${b.pre}.mlp.fc1`),
          P_(`${b.pre}.mlp.fc2`),
          G_(`${b.pre}.mlp.fc1`),
          G_(`${b.pre}.mlp.fc2`),
          dm,
        );
        b.ln2.backward(bwd, dm, b.xs[0], b.mod, dmod, dx, true);
        gateB(`${b.pre} gate1`, b.mod, b.ao, dh, 2 * h);
        b.attn.backward(
          bwd,
          dh,
          b.m[0],
          P_(`${b.pre}.attn.qkv`),
          P_(`${b.pre}.attn.proj`),
          G_(`${b.pre}.attn.qkv`),
          G_(`${b.pre}.attn.proj`),
          dm,
        );
        b.ln1.backward(bwd, dm, xin, b.mod, dmod, dx, true);
        const pa = P_(`${b.pre}.adaLN_modulation.1`), ga = G_(`${b.pre}.adaLN_modulation.1`);
        b.ada.backward(bwd, { buffer: dmod }, { buffer: sc }, pa.w, { buffer: dtmp }, ga.w, ga.b);
        kernel(rt, bwd, `${b.pre} dsc`, `addinto:${B * h}`, () => K.addInto(B * h), [dsc, dtmp], B * h / 4);
      }
      xEmb.backward(
        bwd,
        { buffer: dx },
        { buffer: this.#xp },
        this.P("x_embedder.proj.weight"),
        null,
        this.G("x_embedder.proj.weight"),
        this.G("x_embedder.proj.bias"),
      );
      kernel(rt, bwd, "c silu bwd", `silubwd:${B * h}`, () => K.siluBwd(B * h), [c, dsc, dc], B * h / 4);
      embed.backward(bwd, this.#ids, dc, this.G("y_embedder.embedding_table.weight"));
      t2.backward(
        bwd,
        { buffer: dc },
        { buffer: s1 },
        P_("t_embedder.mlp.2").w,
        { buffer: ds1 },
        G_("t_embedder.mlp.2").w,
        G_("t_embedder.mlp.2").b,
      );
      kernel(rt, bwd, "t silu bwd", `silubwd:${B * h}`, () => K.siluBwd(B * h), [a1, ds1, da1], B * h / 4);
      t1.backward(
        bwd,
        { buffer: da1 },
        { buffer: this.#tf },
        P_("t_embedder.mlp.0").w,
        null,
        G_("t_embedder.mlp.0").w,
        G_("t_embedder.mlp.0").b,
      );
    }, o.weightDecay);
    if (o.ema && this.train) {
      this.ema = new Ema(rt, { params: this.params, floats: this.layout.totalFloats });
      this.ema.record(this.trainProgram);
    }
  }

  /** Uploads one batch: patchified x_t (padded), timestep frequencies, labels, and patchified target ε. */
  writeInputs(inp: DitStepInputs): void {
    const { cfg, batch: B, Tp } = this;
    const q = this.rt.device.queue;
    q.writeBuffer(this.#xp, 0, patchify(cfg, inp.x, B, Tp));
    const tf = new Float32Array(B * FREQ_DIM);
    for (let b = 0; b < B; b++) tf.set(timestepEmbedding(inp.t[b]), b * FREQ_DIM);
    q.writeBuffer(this.#tf, 0, tf);
    const y = Array.from(inp.y);
    q.writeBuffer(this.#ids, 0, packIds(y, y, cfg.numClasses + 1) as Uint32Array<ArrayBuffer>);
    if (inp.target) q.writeBuffer(this.#target, 0, patchify(cfg, inp.target, B, Tp));
  }

  /** ε̂ [B, C, H, W] of the inputs last written (forward only). */
  async predict(): Promise<Float32Array> {
    this.predictProgram.submit(this.rt.device);
    return unpatchify(
      this.cfg,
      await this.readFloats(this.out, this.batch * this.Tp * ditPatchDim(this.cfg)),
      this.batch,
      this.Tp,
    );
  }
}
