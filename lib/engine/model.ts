/**
 * The Llama model on the GPU (Hugging Face `LlamaForCausalLM` semantics), read top to bottom:
 *
 *   x₀ = E[tokens]
 *   per block l:  x ← x + o_proj(attn(rope(q,k), v))   with q,k,v = qkv_proj(rmsnorm(x))
 *                 x ← x + down(silu(gate(h)) · up(h))   with h = rmsnorm(x)
 *   logits = lm_head(rmsnorm(x)),  loss = mean cross-entropy (nats)
 *
 * The whole training step (forward, backward, grad-norm clip, AdamW) is recorded once as a
 * {@link Program} and replayed every step in one submit. q/k/v and gate/up are stored fused
 * ([3d, d] and [2f, d]) and split into Hugging Face tensors at checkpoint time.
 * @module
 */
import type { ModelConfig, SchemeChoice } from "./api.ts";
import { type ParamLayout, paramLayout } from "./config.ts";
import { gemmFlops, gemmGrid, gemmKey, type GemmSpec, gemmWgsl, tileFor } from "../../kernels/engine/gemm.ts";
import * as K from "../../kernels/engine/ops.ts";
import { Linear, Scratch } from "./linear.ts";
import { Program, Runtime, type Slice } from "./runtime.ts";
import { resolveScheme } from "./schemes.ts";
import "../schemes/mod.ts"; // registers the scheme catalogue (lib/schemes) in the label registry

/** AdamW and clipping constants (Quartet §2.2). */
export const OPT = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1.0 } as const;

/** Word offsets (u32) inside the per-step batch buffer. */
export interface BatchLayout {
  /** Tokens in the batch (batch · context). */
  M: number;
  /** Targets start. */
  tgtOff: number;
  /** CSR offsets start (V+1 words). */
  offOff: number;
  /** CSR positions start (M words). */
  posOff: number;
  /** Total words. */
  words: number;
}

/** Batch buffer layout for M tokens and vocabulary V. */
export function batchLayout(M: number, V: number): BatchLayout {
  return { M, tgtOff: M, offOff: 2 * M, posOff: 2 * M + V + 1, words: 3 * M + V + 1 };
}

/**
 * Packs inputs and targets (targets < 0 are ignored by the loss) with the CSR index of positions per
 * token that the atomic-free embedding gradient uses.
 */
export function packBatch(inputs: ArrayLike<number>, targets: ArrayLike<number>, V: number): Uint32Array {
  const M = inputs.length;
  const lay = batchLayout(M, V);
  const out = new Uint32Array(lay.words);
  const counts = new Uint32Array(V + 1);
  for (let i = 0; i < M; i++) {
    out[i] = inputs[i];
    out[lay.tgtOff + i] = targets[i] < 0 ? 0xffffffff : targets[i];
    counts[inputs[i] + 1]++;
  }
  for (let v = 0; v < V; v++) counts[v + 1] += counts[v];
  out.set(counts, lay.offOff);
  const fill = counts.slice(0, V);
  for (let i = 0; i < M; i++) out[lay.posOff + fill[inputs[i]]++] = i;
  return out;
}

/** RoPE cos/sin table [T, hd/2] each, computed like Hugging Face (f32 inv_freq, f32 angle). */
export function ropeTable(T: number, hd: number, theta: number): Float32Array {
  const half = hd / 2;
  const out = new Float32Array(2 * T * half);
  for (let i = 0; i < half; i++) {
    const inv = Math.fround(1 / Math.fround(Math.pow(theta, Math.fround((2 * i) / hd))));
    for (let p = 0; p < T; p++) {
      const a = Math.fround(p * inv);
      out[p * half + i] = Math.cos(a);
      out[T * half + p * half + i] = Math.sin(a);
    }
  }
  return out;
}

/** Options for building a GPU model. */
export interface GpuModelOptions {
  /** Sequences per batch. */
  batch: number;
  /** Linear-layer scheme (default fp32:fp32). */
  scheme?: SchemeChoice;
  /** Build the training program (backward + optimizer); false for eval-only models. */
  train?: boolean;
  /** Linear layers read operands through textures when shapes allow (default true; false: storage buffers). */
  textures?: boolean;
}

/** A model instance on the GPU: parameters, optimizer state, activations and recorded programs. */
export class GpuModel {
  /** Model shape. */
  readonly cfg: ModelConfig;
  /** Sequences per batch. */
  readonly batch: number;
  /** Tokens per batch. */
  readonly M: number;
  /** Flat parameter layout. */
  readonly layout: ParamLayout;
  /** Runtime. */
  readonly rt: Runtime;
  /** Flat parameters (f32 master weights). */
  readonly params: GPUBuffer;
  /** Flat gradients. */
  readonly grads: GPUBuffer;
  /** AdamW first moments. */
  readonly m1: GPUBuffer;
  /** AdamW second moments. */
  readonly m2: GPUBuffer;
  /** Per-step batch buffer (u32). */
  readonly batchBuf: GPUBuffer;
  /** Step uniform: lr, lr/bc1, sqrt(bc2), seed. */
  readonly stepUniform: GPUBuffer;
  /** Scalars: [0] mean train loss, [1] eval loss sum, [2] grad norm, [3] clip coef. */
  readonly scalars: GPUBuffer;
  /** Forward + loss + backward + clip + AdamW (training programs only). */
  readonly trainProgram: Program;
  /** Forward + backward only (gradients for tests). */
  readonly gradProgram: Program;
  /** Forward + loss, accumulating the summed loss into scalars[1]. */
  readonly evalProgram: Program;
  /** Batch layout. */
  readonly batchLayout: BatchLayout;

  #lin: Linear[][] = [];
  #head!: Linear;
  #scratch: Scratch;

  private constructor(rt: Runtime, cfg: ModelConfig, o: GpuModelOptions) {
    this.rt = rt;
    this.cfg = cfg;
    this.batch = o.batch;
    const T = cfg.context, d = cfg.dModel, f = cfg.ffn, V = cfg.vocab, L = cfg.layers, H = cfg.heads;
    const M = (this.M = o.batch * T);
    const hd = d / H;
    const train = o.train ?? true;
    const scheme = resolveScheme(o.scheme ?? { fwd: "fp32", bwd: "fp32" });
    const lay = (this.layout = paramLayout(cfg));
    this.batchLayout = batchLayout(M, V);
    this.#scratch = new Scratch(rt);

    // ---- buffers ----
    const buf = (floats: number, label: string) => rt.storage(floats * 4, label);
    this.params = buf(lay.totalFloats, "params");
    this.grads = buf(train ? lay.totalFloats : 4, "grads");
    this.m1 = buf(train ? lay.totalFloats : 4, "adam m");
    this.m2 = buf(train ? lay.totalFloats : 4, "adam v");
    this.batchBuf = rt.storage(this.batchLayout.words * 4, "batch");
    this.stepUniform = rt.uniform(16, "step");
    this.scalars = buf(4, "scalars");
    const rope = buf(T * hd, "rope");
    rt.device.queue.writeBuffer(rope, 0, ropeTable(T, hd, cfg.ropeTheta) as Float32Array<ArrayBuffer>);
    const xs = Array.from({ length: 2 * L + 1 }, (_, i) => buf(M * d, `x${i}`));
    const act = Array.from({ length: L }, (_, l) => ({
      h1: buf(M * d, `h1.${l}`),
      r1: buf(M, `r1.${l}`),
      qkv: buf(M * 3 * d, `qkv.${l}`),
      p: buf(o.batch * H * T * T, `p.${l}`),
      att: buf(M * d, `att.${l}`),
      h2: buf(M * d, `h2.${l}`),
      r2: buf(M, `r2.${l}`),
      gu: buf(M * 2 * f, `gu.${l}`),
      a: buf(M * f, `a.${l}`),
    }));
    const hf = buf(M * d, "hf"), rf = buf(M, "rf"), logits = buf(M * V, "logits"), loss = buf(M, "loss");

    const P = (name: string): Slice => {
      const t = lay.byName.get(name)!;
      return { buffer: this.params, offset: t.offset * 4, size: t.size * 4 };
    };
    const G = (name: string): Slice => {
      const t = lay.byName.get(name)!;
      return { buffer: this.grads, offset: t.offset * 4, size: t.size * 4 };
    };
    for (let l = 0; l < L; l++) {
      const mk = (name: string, inF: number, outF: number, salt: number) =>
        new Linear(rt, {
          name: `L${l}.${name}`,
          M,
          inF,
          outF,
          scheme: scheme.modules?.[name] ?? scheme, // module-wise precision (lib/schemes)
          salt: l * 16 + salt,
          stepUniform: this.stepUniform,
          scratch: this.#scratch,
          textures: o.textures,
        });
      this.#lin.push([
        mk("qkv", d, 3 * d, 1),
        mk("o", d, d, 2),
        mk("gate_up", d, 2 * f, 3),
        mk("down", f, d, 4),
      ]);
    }

    // lm_head: the same linear layer, full precision unless the scheme opts it in (forward label "+lm_head")
    this.#head = new Linear(rt, {
      name: "lm_head",
      M,
      inF: d,
      outF: V,
      scheme: scheme.modules?.lm_head ?? { name: "fp32:fp32", fwd: {}, bwd: {} },
      salt: 0xffff,
      stepUniform: this.stepUniform,
      scratch: this.#scratch,
    });

    // ---- helpers ----
    const k = (
      prog: Program,
      label: string,
      key: string,
      code: () => string,
      sl: (Slice | GPUBuffer | GPUTextureView)[],
      n: number,
    ) => prog.add(rt.dispatch(label, rt.pipeline(key, code), sl, K.grid1d(n)));
    const gemm = (prog: Program, label: string, s0: GemmSpec, sl: (Slice | GPUBuffer | GPUTextureView)[]) => {
      const s: GemmSpec = {
        ...tileFor(s0.M, s0.N, s0.K, s0.batch ?? 1),
        tex: sl[0] instanceof GPUTextureView,
        ...s0,
      };
      prog.add(
        rt.dispatch(
          label,
          rt.pipeline(gemmKey(s), () => gemmWgsl(s)),
          sl,
          gemmGrid(s),
          gemmFlops(s),
        ),
      );
    };
    const BH = o.batch * H;
    const qkvL = (part: number) => ({ ld: 3 * d, sb: T * 3 * d, sh: hd, off: part * d });
    const attL = { ld: d, sb: T * d, sh: hd };
    const pL = { ld: T, sb: H * T * T, sh: T * T };
    const scale = 1 / Math.sqrt(hd);
    // Attention GEMMs read textures when every operand fits (rows ≤ max side, row pitch a multiple of 256 B).
    const side = rt.maxTextureSide;
    const fits = (rows: number, ld: number) => rows <= side && ld / 4 <= side && (ld * 4) % 256 === 0;
    const attTex = fits(M, 3 * d) && fits(BH * T, T) && fits(M, d);
    /** Attention operands the forward pass put in textures (or their buffers), per layer, for the backward. */
    const attFwdTex: { qkv: GPUBuffer | GPUTextureView; p: GPUBuffer | GPUTextureView }[] = [];
    /** Copies buffer `b` viewed as [rows, ld] into the scratch texture `key`; returns the binding. */
    const tx = (
      prog: Program,
      key: string,
      b: GPUBuffer,
      rows: number,
      ld: number,
    ): GPUBuffer | GPUTextureView => {
      if (!attTex) return b;
      const t = this.#scratch.tex(`att.${key}`, rows, ld);
      prog.copy({ src: b, srcOffset: 0, bytesPerRow: ld * 4, dst: t.tex, width: ld / 4, height: rows });
      return t.view;
    };

    // ---- forward ----
    const fwd = new Program();
    k(fwd, "embed", `embed:${M}:${d}`, () => K.embedFwd(M, d), [
      this.batchBuf,
      P("model.embed_tokens.weight"),
      xs[0],
    ], M * d / 4);
    for (let l = 0; l < L; l++) {
      const a = act[l], [qkv, oproj, gu, down] = this.#lin[l], pre = `model.layers.${l}`;
      const rms = `rms:${M}:${d}:${cfg.rmsEps}`;
      k(fwd, `L${l} norm1`, rms, () => K.rmsFwd(M, d, cfg.rmsEps), [
        xs[2 * l],
        P(`${pre}.input_layernorm.weight`),
        a.h1,
        a.r1,
      ], M);
      qkv.forward(fwd, { buffer: a.h1 }, P(`${pre}.qkv`), { buffer: a.qkv });
      k(
        fwd,
        `L${l} rope`,
        `rope:${M}:${T}:${d}:${hd}:0`,
        () => K.rope(M, T, d, hd, false),
        [a.qkv, rope],
        (M * d) / 4,
      );
      // per-layer textures: the backward pass reads the same rotated qkv and probabilities without a second copy
      const tq = tx(fwd, `qkv${l}`, a.qkv, M, 3 * d);
      gemm(fwd, `L${l} qk`, {
        M: T,
        N: T,
        K: hd,
        causal: "skip",
        batch: BH,
        heads: H,
        transA: false,
        transB: true,
        a: qkvL(0),
        b: qkvL(1),
        c: pL,
        alpha: scale,
      }, [tq, tq, a.p]);
      k(fwd, `L${l} softmax`, `softmax:${BH}:${T}`, () => K.softmaxCausal(BH, T), [a.p], BH * T);
      const tp = tx(fwd, `p${l}`, a.p, BH * T, T);
      attFwdTex[l] = { qkv: tq, p: tp };
      gemm(fwd, `L${l} pv`, {
        M: T,
        N: hd,
        K: T,
        causal: "kmax",
        batch: BH,
        heads: H,
        transA: false,
        transB: false,
        a: pL,
        b: qkvL(2),
        c: attL,
      }, [tp, tq, a.att]);
      oproj.forward(fwd, { buffer: a.att }, P(`${pre}.o`), { buffer: xs[2 * l + 1] }, { buffer: xs[2 * l] });
      k(fwd, `L${l} norm2`, rms, () => K.rmsFwd(M, d, cfg.rmsEps), [
        xs[2 * l + 1],
        P(`${pre}.post_attention_layernorm.weight`),
        a.h2,
        a.r2,
      ], M);
      gu.forward(fwd, { buffer: a.h2 }, P(`${pre}.gate_up`), { buffer: a.gu });
      // SwiGLU writes the down projection's texture operand itself (no copy pass) when that reads one
      const aTex = down.inputTexture;
      k(fwd, `L${l} swiglu`, `swiglu:${M}:${f}:${!!aTex}`, () => K.swigluFwd(M, f, !!aTex), [
        a.gu,
        a.a,
        ...(aTex ? [aTex] : []),
      ], M * f / 4);
      down.forward(fwd, { buffer: a.a }, P(`${pre}.down`), { buffer: xs[2 * l + 2] }, {
        buffer: xs[2 * l + 1],
      }, { xInTexture: !!aTex });
    }
    k(fwd, "norm_f", `rms:${M}:${d}:${cfg.rmsEps}`, () => K.rmsFwd(M, d, cfg.rmsEps), [
      xs[2 * L],
      P("model.norm.weight"),
      hf,
      rf,
    ], M);
    this.#head.forward(fwd, { buffer: hf }, P("lm_head.weight"), { buffer: logits });

    // ---- eval: loss sum accumulated into scalars[1] ----
    this.evalProgram = new Program();
    for (const it of fwd.items) this.evalProgram.items.push(it);
    const bl = this.batchLayout;
    k(
      this.evalProgram,
      "ce",
      `ce:${M}:${V}:${bl.tgtOff}:0`,
      () => K.crossEntropy(M, V, bl.tgtOff, false, 1),
      [this.batchBuf, logits, loss],
      M,
    );
    k(
      this.evalProgram,
      "loss sum",
      `sum:${M}:acc1`,
      () => K.sumReduce(M, 1, 1, true),
      [loss, this.scalars],
      1,
    );

    // ---- backward ----
    this.gradProgram = new Program();
    this.trainProgram = new Program();
    if (!train) return;
    const bwd = this.gradProgram;
    for (const it of fwd.items) bwd.items.push(it);
    k(bwd, "ce", `ce:${M}:${V}:${bl.tgtOff}:1`, () => K.crossEntropy(M, V, bl.tgtOff, true, 1 / M), [
      this.batchBuf,
      logits,
      loss,
    ], M);
    k(bwd, "loss mean", `sum:${M}:mean0`, () => K.sumReduce(M, 1 / M, 0, false), [loss, this.scalars], 1);
    const dx = buf(M * d, "dx"),
      dh = buf(M * d, "dh"),
      dqkv = buf(M * 3 * d, "dqkv"),
      dp = buf(BH * T * T, "dp");
    const datt = buf(M * d, "datt"), dgu = buf(M * 2 * f, "dgu"), da = buf(M * f, "da");
    const dlogits = logits; // the CE kernel overwrote logits with their gradient
    this.#head.backward(
      bwd,
      { buffer: dlogits },
      { buffer: hf },
      P("lm_head.weight"),
      { buffer: dh },
      G("lm_head.weight"),
    );
    const rmsBack = (
      label: string,
      dy: GPUBuffer,
      x: GPUBuffer,
      w: string,
      r: GPUBuffer,
      residual: boolean,
    ) => {
      k(bwd, `${label} dw`, `rmsdw:${M}:${d}`, () => K.rmsDw(M, d), [dy, x, r, G(w)], d / 4);
      k(bwd, `${label} dx`, `rmsbwd:${M}:${d}:${residual}`, () => K.rmsBwd(M, d, residual), [
        dy,
        x,
        P(w),
        r,
        dx,
      ], M);
    };
    rmsBack("norm_f", dh, xs[2 * L], "model.norm.weight", rf, false);
    for (let l = L - 1; l >= 0; l--) {
      const a = act[l], [qkv, oproj, gu, down] = this.#lin[l], pre = `model.layers.${l}`;
      // MLP
      down.backward(bwd, { buffer: dx }, { buffer: a.a }, P(`${pre}.down`), { buffer: da }, G(`${pre}.down`));
      k(bwd, `L${l} swiglu bwd`, `swiglubwd:${M}:${f}`, () => K.swigluBwd(M, f), [a.gu, da, dgu], M * f / 4);
      gu.backward(
        bwd,
        { buffer: dgu },
        { buffer: a.h2 },
        P(`${pre}.gate_up`),
        { buffer: dh },
        G(`${pre}.gate_up`),
      );
      rmsBack(`L${l} norm2`, dh, xs[2 * l + 1], `${pre}.post_attention_layernorm.weight`, a.r2, true);
      // attention
      oproj.backward(bwd, { buffer: dx }, { buffer: a.att }, P(`${pre}.o`), { buffer: datt }, G(`${pre}.o`));
      const { qkv: bq, p: bp } = attFwdTex[l];
      const bo = tx(bwd, "datt", datt, M, d);
      gemm(bwd, `L${l} dP`, {
        M: T,
        N: T,
        K: hd,
        causal: "skip",
        batch: BH,
        heads: H,
        transA: false,
        transB: true,
        a: attL,
        b: qkvL(2),
        c: pL,
      }, [bo, bq, dp]);
      gemm(bwd, `L${l} dV`, {
        M: T,
        N: hd,
        K: T,
        causal: "kmin",
        batch: BH,
        heads: H,
        transA: true,
        transB: false,
        a: pL,
        b: attL,
        c: qkvL(2),
      }, [bp, bo, dqkv]);
      k(bwd, `L${l} softmax bwd`, `softmaxbwd:${BH}:${T}`, () => K.softmaxBwd(BH, T), [a.p, dp], BH * T);
      const bs = tx(bwd, "ds", dp, BH * T, T);
      gemm(bwd, `L${l} dQ`, {
        M: T,
        N: hd,
        K: T,
        causal: "kmax",
        batch: BH,
        heads: H,
        transA: false,
        transB: false,
        a: pL,
        b: qkvL(1),
        c: qkvL(0),
        alpha: scale,
      }, [bs, bq, dqkv]);
      gemm(bwd, `L${l} dK`, {
        M: T,
        N: hd,
        K: T,
        causal: "kmin",
        batch: BH,
        heads: H,
        transA: true,
        transB: false,
        a: pL,
        b: qkvL(0),
        c: qkvL(1),
        alpha: scale,
      }, [bs, bq, dqkv]);
      k(
        bwd,
        `L${l} rope bwd`,
        `rope:${M}:${T}:${d}:${hd}:1`,
        () => K.rope(M, T, d, hd, true),
        [dqkv, rope],
        (M * d) / 4,
      );
      qkv.backward(bwd, { buffer: dqkv }, { buffer: a.h1 }, P(`${pre}.qkv`), { buffer: dh }, G(`${pre}.qkv`));
      rmsBack(`L${l} norm1`, dh, xs[2 * l], `${pre}.input_layernorm.weight`, a.r1, true);
    }
    k(bwd, "embed bwd", `embedbwd:${M}:${d}:${V}`, () => K.embedBwd(M, d, V, bl.offOff, bl.posOff), [
      this.batchBuf,
      dx,
      G("model.embed_tokens.weight"),
    ], V * d / 4);

    // ---- optimizer: global-norm clip + AdamW (two ranges: decayed linear weights, the rest) ----
    const opt = this.trainProgram;
    for (const it of bwd.items) opt.items.push(it);
    const n4 = lay.totalFloats / 4, chunk = 256, parts = Math.ceil(n4 / chunk);
    const partial = buf(parts, "norm parts"), clip = buf(4, "clip");
    k(
      opt,
      "grad norm",
      `sumsq:${n4}:${chunk}`,
      () => K.sumSquaresPartial(n4, chunk),
      [this.grads, partial],
      parts,
    );
    k(opt, "clip", `clip:${parts}:${OPT.clip}`, () => K.clipCoef(parts, OPT.clip), [partial, clip], 1);
    const ranges: [number, number, number][] = [[0, lay.decayFloats, OPT.weightDecay], [
      lay.decayFloats,
      lay.totalFloats - lay.decayFloats,
      0,
    ]];
    for (const [off, n, wd] of ranges) {
      if (n === 0) continue;
      const sl = (b: GPUBuffer): Slice => ({ buffer: b, offset: off * 4, size: n * 4 });
      k(
        opt,
        `adamw wd=${wd}`,
        `adamw:${n / 4}:${wd}`,
        () => K.adamw(n / 4, OPT.beta1, OPT.beta2, OPT.eps, wd),
        [
          sl(this.params),
          sl(this.grads),
          sl(this.m1),
          sl(this.m2),
          clip,
          this.stepUniform,
        ],
        n / 4,
      );
    }
    this.#clip = clip;
  }

  #clip?: GPUBuffer;

  /** The clip buffer (grad norm, coefficient) of the last step; training programs only. */
  get clipBuffer(): GPUBuffer | undefined {
    return this.#clip;
  }

  #owned: (GPUBuffer | GPUTexture)[] = [];

  /** Builds a model on the runtime's device (free it with {@link destroy}). */
  static create(rt: Runtime, cfg: ModelConfig, o: GpuModelOptions): GpuModel {
    rt.openArena();
    let m: GpuModel;
    try {
      m = new GpuModel(rt, cfg, o);
    } catch (e) {
      rt.freeAll(rt.closeArena());
      throw e;
    }
    m.#owned = rt.closeArena();
    return m;
  }

  /** Releases every buffer and texture of the model (call once the queue no longer uses them). */
  destroy(): void {
    this.rt.freeAll(this.#owned);
  }

  /** Uploads flat parameters. */
  setParams(p: Float32Array): void {
    this.rt.device.queue.writeBuffer(this.params, 0, p as Float32Array<ArrayBuffer>);
  }

  /** Uploads optimizer moments. */
  setMoments(m: Float32Array, v: Float32Array): void {
    this.rt.device.queue.writeBuffer(this.m1, 0, m as Float32Array<ArrayBuffer>);
    this.rt.device.queue.writeBuffer(this.m2, 0, v as Float32Array<ArrayBuffer>);
  }

  /** Uploads one packed batch (see {@link packBatch}). */
  writeBatch(packed: Uint32Array): void {
    this.rt.device.queue.writeBuffer(this.batchBuf, 0, packed as Uint32Array<ArrayBuffer>);
  }

  /** Writes the step uniform (values rounded to f32 exactly as the kernels see them). */
  writeStep(lr: number, stepSize: number, sqrtBc2: number, seed: number): void {
    const b = new ArrayBuffer(16);
    new Float32Array(b, 0, 3).set([lr, stepSize, sqrtBc2]);
    new Uint32Array(b, 12, 1)[0] = seed >>> 0;
    this.rt.device.queue.writeBuffer(this.stepUniform, 0, b);
  }

  /** Zeroes scalars[1] (the eval accumulator). */
  resetEvalSum(): void {
    this.rt.device.queue.writeBuffer(this.scalars, 4, new Float32Array([0]));
  }

  /** Reads a flat f32 buffer (awaits). */
  async readFloats(b: GPUBuffer, floats?: number): Promise<Float32Array> {
    return new Float32Array(await this.rt.read(b, (floats ?? b.size / 4) * 4));
  }
}
