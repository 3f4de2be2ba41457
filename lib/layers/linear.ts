/**
 * The linear layer Y = X·Wᵀ with its three GEMMs and the hooks where quantization schemes plug in.
 *
 * ```
 * forward:   Y  = prep[fwd.x](X)  · prep[fwd.w](W)ᵀ          (+ residual)
 * backward:  dX = prep[dx.dy](dY) · prep[dx.w](W)      ⊙ Gx   (Gx: estimator multiplier from fwd.x)
 *            dW = prep[dw.dy](dY)ᵀ· prep[dw.x](X)      ⊙ Gw   (Gw: estimator multiplier from fwd.w)
 * ```
 *
 * Each product runs on one back-end, chosen once when the layer is built from its two operand hooks
 * ({@link Linear.backends}): `fp4` (both hooks have a packed-FP4 variant: E2M1 codes + block scales), `bf16`
 * (both hooks are plain BF16 rounding and the layer reads textures: packed BF16 textures), or `f32` (prepare
 * passes, then the f32 GEMM over textures or storage buffers). An optional bias (f32, never quantized) is added
 * after the forward GEMM; its gradient is the column sum of dY.
 *
 * A hook left `undefined` is the identity: the GEMM reads the source tensor directly, with no extra
 * pass, so an all-identity scheme *is* the f32 path, bit for bit.
 *
 * A hook is an {@link OperandPrep}: one fused "prepare" kernel per operand (transform / scale / round /
 * mask) that reads the source operand and writes the operand the GEMM reads. The kernel hands the
 * scheme's WGSL `prep()` one group of `group` consecutive values **along that GEMM's reduction axis**
 * (so MX-style block scales and Hadamard blocks line up with the dot products), plus a multiplier
 * array initialised to 1 and a per-group random seed. When `estimator` is set on the forward X or W
 * hook, the multipliers are stored and applied elementwise to the gradient reaching that source
 * operand (dX or dW) in the backward GEMM's epilogue: that is the gradient-estimator hook (trust
 * masks, DGE multipliers; all-ones = straight-through).
 * @module
 */
import { denseGemm, gemmGrid, gemmKey, type GemmSpec, gemmWgsl, tileFor } from "../../kernels/engine/gemm.ts";
import { biasAdd, biasGrad, grid1d, packBf16, prepare, toTexture } from "../../kernels/engine/ops.ts";
import { postKernel } from "../../kernels/schemes/prep.ts";
import { fp4GemmGrid, fp4GemmKernel } from "../../kernels/schemes/fp4gemm.ts";
import { type Binding, type Program, type Runtime, type Slice } from "../gpu/runtime.ts";
import { allRuns, type Runs } from "./record.ts";

/**
 * One operand quantizer: the WGSL body of a prepare pass.
 *
 * `wgsl` must define
 * `fn prep(v: ptr<function, array<f32, G>>, g: ptr<function, array<f32, G>>, seed: u32)`
 * where G = `group`. It rewrites `v` in place (the values the GEMM will see) and may write `g` (the
 * gradient multiplier, pre-set to 1). `seed` is a well-mixed u32 that differs per step, call site and
 * group (for stochastic rounding). Helper functions may be defined alongside.
 */
export interface OperandPrep {
  /** Stable identifier; part of the pipeline cache key. */
  id: string;
  /** Values per group along the reduction axis: 1 (elementwise) or a divisor of 32 such as 32 (MX block). */
  group: number;
  /** WGSL defining `prep()` (and helpers). */
  wgsl: string;
  /** Store `g` and multiply the source operand's gradient by it (only meaningful on fwd.x / fwd.w). */
  estimator?: boolean;
  /**
   * Set when the hook is exactly elementwise BF16 round-to-nearest-even, to the WGSL defining
   * `fn bf16_round(x: f32) -> f32`: a GEMM whose two operand hooks both have it reads BF16 pairs packed
   * in rgba32uint textures (one pack pass per operand, half the loads; results identical).
   */
  bf16?: string;
  /** Specialises the hook for a reduction length (row-wise groups, Hadamard size); used when present. */
  forLength?: (len: number) => OperandPrep;
  /**
   * Packed-FP4 variant (kernels/schemes/fp4gemm.ts): WGSL of a prep-and-pack kernel with bindings 0 source,
   * 1 dequantized out, 2 step uniform, 3 E2M1 codes [rows, K/8], 4 block scales [rows, K/32], 5 multiplier
   * (when `estimator`). A GEMM whose two hooks both have it runs as a packed FP4 GEMM.
   */
  pack?: (R: number, C: number, axis: 0 | 1, estimator: boolean, salt: number) => string;
}

/** Forward hooks of a linear layer (see {@link LinearScheme}). */
export interface ForwardOps {
  x?: OperandPrep;
  w?: OperandPrep;
  /**
   * Backward GEMMs read the forward-prepared operands (X_q, W_q, kept per layer) instead of the sources,
   * as quantization-aware autograd does (dX = dY·W_q, dW = dYᵀ·X_q).
   */
  keep?: boolean;
  /**
   * Gradient post-passes (in place, groups along in-features): `x` on dX, `w` on dW. The WGSL `prep(v, g,
   * seed)` receives the stored estimator multiplier in `g` (then the GEMM epilogue does not apply it),
   * e.g. trust mask then inverse forward Hadamard.
   */
  post?: { x?: OperandPrep; w?: OperandPrep };
}

/** The six operand hooks of one linear layer; `undefined` = identity. */
export interface LinearScheme {
  /** Scheme label (e.g. "fp32", "bf16"). */
  name: string;
  /** Forward GEMM Y = X·Wᵀ: quantizers of X (groups along in-features) and W (along in-features). */
  fwd: ForwardOps;
  /**
   * Backward GEMMs. dX = dY·W reduces over out-features: `dxDy` groups dY along out-features, `dxW` groups
   * W along out-features (its rows). dW = dYᵀ·X reduces over tokens: `dwDy` and `dwX` group along tokens.
   */
  bwd: { dxDy?: OperandPrep; dxW?: OperandPrep; dwDy?: OperandPrep; dwX?: OperandPrep };
  /** Per-module overrides by module name (qkv, o, gate_up, down): module-wise precision. */
  modules?: Record<string, LinearScheme>;
}

/** The f32 recipe: no operand hooks (every GEMM reads its sources directly). */
export const F32_SCHEME: LinearScheme = { name: "fp32:fp32", fwd: {}, bwd: {} };

/** Shared scratch buffers keyed by role and size (prepared operands are consumed immediately). */
export class Scratch {
  #rt: Runtime;
  #bufs = new Map<string, GPUBuffer>();
  /** Wraps a runtime. */
  constructor(rt: Runtime) {
    this.#rt = rt;
  }
  /** A buffer of at least `floats` floats shared by every caller using `key`. */
  get(key: string, floats: number): GPUBuffer {
    const k = `${key}:${floats}`;
    let b = this.#bufs.get(k);
    if (!b) {
      b = this.#rt.storage(floats * 4, `scratch ${k}`);
      this.#bufs.set(k, b);
    }
    return b;
  }
  #texs = new Map<string, TexOperand>();
  /** An rgba32float texture of [rows, cols] floats shared by every caller using `key`. */
  tex(key: string, rows: number, cols: number): TexOperand {
    const k = `${key}:${rows}x${cols}`;
    let t = this.#texs.get(k);
    if (!t) {
      t = newTexOperand(this.#rt, rows, cols, `scratch ${k}`);
      this.#texs.set(k, t);
    }
    return t;
  }
  /** An rgba32uint texture holding [rows, cols] BF16 values (8 per texel), shared by callers using `key`. */
  texBf16(key: string, rows: number, cols: number): TexOperand {
    const k = `bf16 ${key}:${rows}x${cols}`;
    let t = this.#texs.get(k);
    if (!t) {
      const tex = this.#rt.texture(cols / 8, rows, `scratch ${k}`, "rgba32uint");
      t = { tex, view: tex.createView(), rows, cols };
      this.#texs.set(k, t);
    }
    return t;
  }
}

/** A GEMM operand held in a texture (the buffer [rows, cols] viewed as cols/4 texels per row). */
export interface TexOperand {
  /** Texture. */
  tex: GPUTexture;
  /** View for sampling (GEMM input) and storage writes (copy kernel). */
  view: GPUTextureView;
  /** Rows. */
  rows: number;
  /** Columns in floats. */
  cols: number;
}

function newTexOperand(rt: Runtime, rows: number, cols: number, label: string): TexOperand {
  const tex = rt.texture(cols / 4, rows, label);
  return { tex, view: tex.createView(), rows, cols };
}

/** Options of one linear layer instance. */
export interface LinearOptions {
  /** Name (for labels). */
  name: string;
  /** Tokens (rows of X). */
  M: number;
  /** In-features (K of the forward GEMM). */
  inF: number;
  /** Out-features. */
  outF: number;
  /** Operand hooks. */
  scheme: LinearScheme;
  /** Distinct per layer: mixed into the random seed of every prepare pass. */
  salt: number;
  /** The 16-byte step uniform (lr, stepSize, sqrtBc2, seed: u32). */
  stepUniform: GPUBuffer;
  /** Shared scratch pool. */
  scratch: Scratch;
  /** Read GEMM operands through textures when the shapes fit (default true; faster on llvmpipe). */
  textures?: boolean;
  /**
   * K packed runs (M rows each, weights per run; lib/engine/pack.ts): every GEMM runs batched over the runs,
   * prepare and post passes per run. Throws for what has no run dimension yet ({@link packProblem}).
   */
  runs?: Runs;
}

/** Parameter (or gradient) slices of one linear layer: weight [out, in] and optional bias [out]. */
export interface LinearParams {
  /** Weight. */
  w: Slice;
  /** Bias (absent: no bias). */
  b?: Slice;
}

/** The back-end a product of a linear layer runs on (see the module doc). */
export type Backend = "fp4" | "bf16" | "f32";

/** A linear layer Y = X·Wᵀ (W stored [outF, inF], PyTorch layout) with quantizer hooks. */
export class Linear {
  /** Options. */
  readonly o: LinearOptions;
  #rt: Runtime;
  #gx?: GPUBuffer;
  #gw?: GPUBuffer;
  #xq?: GPUBuffer;
  #wq?: GPUBuffer;
  /** Texture mode: the forward X operand, kept for the dW GEMM. */
  #tx?: TexOperand;
  /** Whether #tx holds exactly the X the dW GEMM needs before its own prep. */
  #txIsBwdX = false;

  /** Creates the layer; allocates estimator-multiplier buffers when the scheme uses them. */
  constructor(rt: Runtime, o: LinearOptions) {
    this.#rt = rt;
    this.o = o;
    const K = o.runs?.runs ?? 1, KM = K * o.M; // packed runs: K of each per-layer buffer, one after another
    if (o.scheme.fwd.x?.estimator) this.#gx = rt.storage(K * o.M * o.inF * 4, `${o.name} gx`);
    if (o.scheme.fwd.w?.estimator) this.#gw = rt.storage(K * o.outF * o.inF * 4, `${o.name} gw`);
    if (o.scheme.fwd.keep && o.scheme.fwd.x) this.#xq = rt.storage(K * o.M * o.inF * 4, `${o.name} xq`);
    if (o.scheme.fwd.keep && o.scheme.fwd.w) this.#wq = rt.storage(K * o.outF * o.inF * 4, `${o.name} wq`);
    if (this.#wq) this.#dense.add(this.#wq);
    const side = rt.maxTextureSide;
    if ((o.textures ?? true) && KM <= side && o.inF / 4 <= side && o.outF / 4 <= side && K * o.outF <= side) {
      this.#tx = newTexOperand(rt, KM, o.inF, `${o.name} x`);
      this.#txIsBwdX = !o.scheme.fwd.x || !!o.scheme.fwd.keep;
    }
    const { fwd, bwd } = o.scheme, post = fwd.post;
    const pick = (a: OperandPrep | undefined, b: OperandPrep | undefined, f32Only: boolean): Backend =>
      this.#bf16Pair(a, b) && !f32Only ? "bf16" : "f32";
    this.backends = {
      fwd: this.#packable(fwd.x, o.inF) && this.#packable(fwd.w, o.inF)
        ? "fp4"
        : this.#bf16Pair(fwd.x, fwd.w) && !this.#gx && !this.#gw && !this.#xq && !this.#wq
        ? "bf16"
        : "f32",
      dx: this.#packable(bwd.dxDy, o.outF) && this.#packable(bwd.dxW, o.outF)
        ? (this.#gx && !post?.x ? "f32" : "fp4")
        : pick(bwd.dxDy, bwd.dxW, !!this.#gx || !!post?.x),
      dw: this.#packable(bwd.dwDy, o.M) && this.#packable(bwd.dwX, o.M)
        ? (this.#gw && !post?.w ? "f32" : "fp4")
        : pick(bwd.dwDy, bwd.dwX, !!this.#gw || !!post?.w),
    };
    const problem = o.runs && packProblem(o.scheme, this.backends, !!this.#tx, !!this.#gw);
    if (problem) throw new Error(`${o.name}: cannot pack runs: ${problem}`);
  }

  /** The back-end of each product, chosen once from the operand hooks. */
  readonly backends: { fwd: Backend; dx: Backend; dw: Backend };

  /**
   * The texture the f32 forward GEMM reads X from, when a producer kernel may write X there itself (no
   * forward quantizer on X); pass `{ xInTexture: true }` to `forward` after recording that producer.
   */
  get inputTexture(): GPUTextureView | undefined {
    return this.#tx && !this.o.scheme.fwd.x ? this.#tx.view : undefined;
  }

  /** True when the GEMMs read their operands from textures. */
  get usesTextures(): boolean {
    return !!this.#tx;
  }

  /** Records the copy of `src` ([rows, cols] row-major) into texture operand `t`; returns its view. */
  #toTex(prog: Program, src: Slice, t: TexOperand): GPUTextureView {
    const off = src.offset ?? 0;
    if ((t.cols * 4) % 256 === 0 && off % 16 === 0) {
      prog.copy({
        src: src.buffer,
        srcOffset: off,
        bytesPerRow: t.cols * 4,
        dst: t.tex,
        width: t.cols / 4,
        height: t.rows,
      });
    } else {
      const n = (t.rows * t.cols) / 4;
      const pipe = this.#rt.pipeline(`totex:${t.rows}:${t.cols / 4}`, () => toTexture(t.rows, t.cols / 4));
      prog.add(
        this.#rt.dispatch(
          `${this.o.name} to texture`,
          pipe,
          [{ ...src, size: t.rows * t.cols * 4 }, t.view],
          grid1d(n),
        ),
      );
    }
    return t.view;
  }

  /** Texture mode and both hooks plain BF16 rounding: the GEMM reads packed BF16 textures. */
  #bf16Pair(pa?: OperandPrep, pb?: OperandPrep): string | undefined {
    return this.#tx && pa?.bf16 && pb?.bf16 && pa.bf16 === pb.bf16 ? pa.bf16 : undefined;
  }

  /** Records the BF16 rounding + packing of `src` ([rows, cols]) into scratch texture `key`. */
  #packTex(
    prog: Program,
    round: string,
    src: Slice,
    rows: number,
    cols: number,
    key: string,
  ): GPUTextureView {
    const t = this.o.scratch.texBf16(key, rows, cols);
    const pipe = this.#rt.pipeline(
      `bf16pack:${rows}:${cols}:${round}`,
      () => packBf16(rows, cols / 8, round),
    );
    const sl: Binding[] = [{ ...src, size: rows * cols * 4 }, t.view];
    prog.add(this.#rt.dispatch(`${this.o.name} pack bf16`, pipe, sl, grid1d((rows * cols) / 8)));
    return t.view;
  }

  /** Tile shape of a GEMM with M rows and N columns (see `tileFor`), reading textures when this layer has them. */
  #tile(M: number, N: number, K: number): { tm: 8 | 16 | 32; tn: 8 | 16 | 32; wg: number; tex: boolean } {
    return { ...tileFor(M, N, K), tex: !!this.#tx };
  }

  /** One of the layer's three products as a GEMM spec: Y = X·Wᵀ, dX = dY·W or dW = dYᵀ·X, tiled for its shape. */
  #spec(kind: "fwd" | "dx" | "dw", extra: Partial<GemmSpec> = {}): GemmSpec {
    const { M, inF, outF } = this.o;
    // [M, N, K, transA, transB] of Y = X·Wᵀ, dX = dY·W and dW = dYᵀ·X
    const [m, n, k, transA, transB] = ({
      fwd: [M, outF, inF, false, true],
      dx: [M, inF, outF, false, false],
      dw: [outF, inF, M, true, false],
    } as const)[kind];
    const base = denseGemm(m, n, k, transA, transB);
    const r = this.o.runs;
    if (!r) return { ...base, ...this.#tile(base.M, base.N, base.K), ...extra };
    // K runs: run z's operands one run apart (W: packed texture rows, or the parameter slabs)
    const ws = this.#tx ? outF * inF : r.stride;
    const sb =
      { fwd: [M * inF, ws, M * outF], dx: [M * outF, ws, M * inF], dw: [M * outF, M * inF, r.stride] }[kind];
    return {
      ...base,
      batch: r.runs,
      a: { ...base.a, sb: sb[0] },
      b: { ...base.b, sb: sb[1] },
      c: { ...base.c, sb: sb[2] },
      ...tileFor(base.M, base.N, base.K, r.runs),
      tex: !!this.#tx,
      ...extra,
    };
  }

  /** Rows of the activations of all runs (M, or K·M when packed). */
  get #rows(): number {
    return this.o.M * (this.o.runs?.runs ?? 1);
  }

  /**
   * Buffers holding one [rows, cols] operand per run back to back (prepared operands, kept W_q): a weight
   * read from one is `rows·cols` floats per run apart, a weight read from the parameters `runs.stride`.
   */
  #dense = new Set<GPUBuffer>();

  /** The slice of weight `w` ([outF, inF] per run) of every packed run, and floats between runs. */
  #runsOf(w: Slice, rows: number, cols: number): { src: Slice; S: number } {
    const r = this.o.runs!;
    if (this.#dense.has(w.buffer)) {
      return { src: { buffer: w.buffer, size: r.runs * rows * cols * 4 }, S: rows * cols };
    }
    return { src: allRuns(w, rows * cols, r), S: r.stride };
  }

  /** A weight operand for the GEMM: BF16-packed (`round`) or f32 texture of every run (packing needs textures). */
  #weight(prog: Program, w: Slice, round: string | undefined): Binding {
    const { outF, inF, runs } = this.o;
    if (!runs) {
      if (round) return this.#packTex(prog, round, w, outF, inF, "w");
      return this.#tx ? this.#toTex(prog, w, this.o.scratch.tex("w", outF, inF)) : w;
    }
    const { src, S } = this.#runsOf(w, outF, inF), k = runs.runs;
    const t = round ? this.o.scratch.texBf16("w", k * outF, inF) : this.o.scratch.tex("w", k * outF, inF);
    const width = inF / (round ? 8 : 4);
    const key = round
      ? `bf16packruns:${outF}:${width}:${k}:${S}:${round}`
      : `totexruns:${outF}:${width}:${k}:${S}`;
    const rr = { runs: k, stride: S };
    const code = () => round ? packBf16(outF, width, round, rr) : toTexture(outF, width, rr);
    const n = k * outF * width;
    prog.add(
      this.#rt.dispatch(`${this.o.name} weights`, this.#rt.pipeline(key, code), [src, t.view], grid1d(n)),
    );
    return t.view;
  }

  /** FLOPs of the three GEMMs. */
  get flops(): { fwd: number; bwd: number } {
    const f = 2 * this.o.M * this.o.inF * this.o.outF;
    return { fwd: f, bwd: 2 * f };
  }

  #salts = new Map<string, GPUBuffer>();

  /** The 16-byte uniform holding the RNG salt of one operand role of this layer. */
  #saltUniform(role: string, salt: number): GPUBuffer {
    let b = this.#salts.get(role);
    if (!b) {
      b = this.#rt.uniform(16, `${this.o.name} salt ${role}`);
      this.#rt.device.queue.writeBuffer(b, 0, new Uint32Array([salt >>> 0, 0, 0, 0]));
      this.#salts.set(role, b);
    }
    return b;
  }

  /** Records a prepare pass of `src` ([R, C] row-major) and returns the slice the GEMM reads. */
  #prep(
    prog: Program,
    role: string,
    p: OperandPrep | undefined,
    src: Slice,
    R: number,
    C: number,
    axis: 0 | 1,
    mult?: GPUBuffer,
    keep?: GPUBuffer,
  ): Slice {
    if (!p) return src;
    if (p.forLength) p = p.forLength(axis === 1 ? C : R);
    if ((axis === 1 ? C : R) % p.group) {
      throw new Error(`${this.o.name}: group ${p.group} does not divide ${role}`);
    }
    // K packed runs: same groups, seeds and values per run (`prepare` with `runs`)
    const runs = this.o.runs, n = (runs?.runs ?? 1) * R * C;
    const dst = keep ?? this.o.scratch.get(`prep.${role}`, n);
    const salt = (this.o.salt * 0x9e3779b1 + roleSalt[role]) >>> 0;
    const est = !!(p.estimator && mult);
    let key = `prep:${p.id}:${R}:${C}:${axis}:${p.group}:${est}`, from = src, packed: Runs | undefined;
    if (runs) {
      this.#dense.add(dst);
      // weights come from the parameter slabs (or a dense buffer); activations are dense [K·R, C]
      const w = role.endsWith(".w") ? this.#runsOf(src, R, C) : { src: { ...src, size: n * 4 }, S: R * C };
      key = `prepruns:${p.id}:${R}:${C}:${axis}:${p.group}:${est}:${runs.runs}:${w.S}`;
      from = w.src;
      packed = { runs: runs.runs, stride: w.S };
    }
    const pipe = this.#rt.pipeline(key, () => prepare(R, C, axis, p.group, p.wgsl, est, "uniform", packed));
    const slices: (Slice | GPUBuffer)[] = [from, { buffer: dst, size: n * 4 }, this.o.stepUniform];
    if (est) slices.push({ buffer: mult!, size: n * 4 });
    slices.push(this.#saltUniform(role, salt));
    prog.add(this.#rt.dispatch(`${this.o.name} prep ${role}`, pipe, slices, grid1d(n / p.group)));
    return { buffer: dst, size: n * 4 };
  }

  #gemm(prog: Program, label: string, spec: GemmSpec, slices: Binding[]): void {
    const pipe = this.#rt.pipeline(gemmKey(spec), () => gemmWgsl(spec));
    prog.add(this.#rt.dispatch(label, pipe, slices, gemmGrid(spec), 2 * spec.M * spec.N * spec.K));
  }

  /** Records Y = X·Wᵀ (+ `residual`, a separate buffer with Y's layout) (+ `opt.bias` per column). */
  forward(
    prog: Program,
    x: Slice,
    w: Slice,
    y: Slice,
    residual?: Slice,
    opt: { xInTexture?: boolean; bias?: Slice } = {},
  ): void {
    const { M, inF, outF, scheme } = this.o;
    const run = {
      fp4: () => {
        const a = this.#pack(
          prog,
          "fwd.x",
          this.#packable(scheme.fwd.x, inF)!,
          x,
          M,
          inF,
          1,
          this.#gx,
          this.#xq,
        );
        const b = this.#pack(
          prog,
          "fwd.w",
          this.#packable(scheme.fwd.w, inF)!,
          w,
          outF,
          inF,
          1,
          this.#gw,
          this.#wq,
        );
        this.#fp4(prog, `${this.o.name} fwd fp4`, a, b, M, outF, inF, y, residual);
        if (this.#tx && this.#txIsBwdX) this.#toTex(prog, a.deq, this.#tx);
      },
      bf16: () => {
        const round = this.#bf16Pair(scheme.fwd.x, scheme.fwd.w)!;
        const a = this.#packTex(prog, round, x, this.#rows, inF, "x"), b = this.#weight(prog, w, round);
        const spec = this.#spec("fwd", { add: residual ? "buf" : "none", bf16: true });
        this.#gemm(prog, `${this.o.name} fwd`, spec, residual ? [a, b, y, residual] : [a, b, y]);
      },
      f32: () => {
        const xq = this.#prep(prog, "fwd.x", scheme.fwd.x, x, M, inF, 1, this.#gx, this.#xq);
        const wq = this.#prep(prog, "fwd.w", scheme.fwd.w, w, outF, inF, 1, this.#gw, this.#wq);
        const spec = this.#spec("fwd", { add: residual ? "buf" : "none" });
        let a: Binding = xq, b: Binding = wq;
        if (this.#tx) {
          a = opt.xInTexture && this.inputTexture ? this.#tx.view : this.#toTex(prog, xq, this.#tx);
        }
        b = this.#weight(prog, wq, undefined);
        this.#gemm(prog, `${this.o.name} fwd`, spec, residual ? [a, b, y, residual] : [a, b, y]);
      },
    };
    run[this.backends.fwd]();
    if (opt.bias) {
      const pipe = this.#rt.pipeline(`biasadd:${M}:${outF}`, () => biasAdd(M, outF));
      prog.add(this.#rt.dispatch(`${this.o.name} bias`, pipe, [y, opt.bias], grid1d((M * outF) / 4)));
    }
  }

  /** Records dX = dY·W (skipped when `dx` is null), dW = dYᵀ·X and, with `db`, the bias gradient Σ_rows dY. */
  backward(prog: Program, dy: Slice, x: Slice, w: Slice, dx: Slice | null, dw: Slice, db?: Slice): void {
    const { M, inF, outF, scheme } = this.o;
    if (db) {
      const pipe = this.#rt.pipeline(`biasgrad:${M}:${outF}`, () => biasGrad(M, outF));
      prog.add(this.#rt.dispatch(`${this.o.name} bias grad`, pipe, [dy, db], grid1d(outF / 4)));
    }
    const K = this.o.runs?.runs ?? 1;
    if (this.#xq) x = { buffer: this.#xq, size: K * M * inF * 4 };
    if (this.#wq) w = { buffer: this.#wq, size: K * outF * inF * 4 };
    const post = scheme.fwd.post;
    const tx = this.#tx;
    let tDy: GPUTextureView | undefined;
    let tDyBf: GPUTextureView | undefined;
    const bfX = this.#bf16Pair(scheme.bwd.dxDy, scheme.bwd.dxW);
    const bfW = this.#bf16Pair(scheme.bwd.dwDy, scheme.bwd.dwX);
    const dX = {
      fp4: (dx: Slice) => {
        const a = this.#pack(prog, "dx.dy", this.#packable(scheme.bwd.dxDy, outF)!, dy, M, outF, 1);
        const b = this.#pack(prog, "dx.w", this.#packable(scheme.bwd.dxW, outF)!, w, outF, inF, 0);
        this.#fp4(prog, `${this.o.name} dX fp4`, a, b, M, inF, outF, dx);
        if (post?.x) this.#post(prog, "dx", post.x, dx, M, inF, this.#gx);
      },
      bf16: (dx: Slice) => {
        const a = this.#packTex(prog, bfX!, dy, this.#rows, outF, "dy");
        if (bfX === bfW) tDyBf = a;
        const b = this.#weight(prog, w, bfX);
        this.#gemm(prog, `${this.o.name} dX`, this.#spec("dx", { bf16: true }), [a, b, dx]);
      },
      f32: (dx: Slice) => {
        const dyq = this.#prep(prog, "dx.dy", scheme.bwd.dxDy, dy, M, outF, 1);
        const wq = this.#prep(prog, "dx.w", scheme.bwd.dxW, w, outF, inF, 0);
        const spec = this.#spec("dx", { mul: !!this.#gx && !post?.x });
        let a: Binding = dyq, b: Binding = wq;
        if (tx) {
          a = this.#toTex(prog, dyq, this.o.scratch.tex("dy", this.#rows, outF));
          if (!scheme.bwd.dxDy && !scheme.bwd.dwDy) tDy = a;
        }
        b = this.#weight(prog, wq, undefined);
        const sl: Binding[] = [a, b, dx];
        if (spec.mul) sl.push(this.#gx!);
        this.#gemm(prog, `${this.o.name} dX`, spec, sl);
        if (post?.x) this.#post(prog, "dx", post.x, dx, M, inF, this.#gx);
      },
    };
    const dW = {
      fp4: () => {
        const a = this.#pack(prog, "dw.dy", this.#packable(scheme.bwd.dwDy, M)!, dy, M, outF, 0);
        const b = this.#pack(prog, "dw.x", this.#packable(scheme.bwd.dwX, M)!, x, M, inF, 0);
        this.#fp4(prog, `${this.o.name} dW fp4`, a, b, outF, inF, M, dw);
        if (post?.w) this.#post(prog, "dw", post.w, dw, outF, inF, this.#gw);
      },
      bf16: () => {
        const a = tDyBf ?? this.#packTex(prog, bfW!, dy, this.#rows, outF, "dy");
        const b = this.#packTex(prog, bfW!, x, this.#rows, inF, "x");
        const dws = allRuns(dw, outF * inF, this.o.runs);
        this.#gemm(prog, `${this.o.name} dW`, this.#spec("dw", { bf16: true }), [a, b, dws]);
      },
      f32: () => {
        const dyq = this.#prep(prog, "dw.dy", scheme.bwd.dwDy, dy, M, outF, 0);
        const xq = this.#prep(prog, "dw.x", scheme.bwd.dwX, x, M, inF, 0);
        const spec = this.#spec("dw", { mul: !!this.#gw && !post?.w });
        let a: Binding = dyq, b: Binding = xq;
        if (tx) {
          a = tDy ?? this.#toTex(prog, dyq, this.o.scratch.tex("dy", this.#rows, outF));
          b = !scheme.bwd.dwX && this.#txIsBwdX
            ? tx.view
            : this.#toTex(prog, xq, this.o.scratch.tex("x", this.#rows, inF));
        }
        const sl: Binding[] = [a, b, allRuns(dw, outF * inF, this.o.runs)];
        if (spec.mul) sl.push(this.#gw!);
        this.#gemm(prog, `${this.o.name} dW`, spec, sl);
        if (post?.w) this.#post(prog, "dw", post.w, dw, outF, inF, this.#gw);
      },
    };
    if (dx) dX[this.backends.dx](dx);
    dW[this.backends.dw]();
  }

  /** The hook specialised for reduction length `len` when it has a packed-FP4 variant, else undefined. */
  #packable(p: OperandPrep | undefined, len: number): OperandPrep | undefined {
    if (!p) return undefined;
    const q = p.forLength ? p.forLength(len) : p;
    return q.pack ? q : undefined;
  }

  /** Records a prep-and-pack pass; returns the packed codes, block scales and dequantized values. */
  #pack(
    prog: Program,
    role: string,
    p: OperandPrep,
    src: Slice,
    R: number,
    C: number,
    axis: 0 | 1,
    mult?: GPUBuffer,
    keep?: GPUBuffer,
  ): { q: Slice; sc: Slice; deq: Slice } {
    const n = R * C;
    const deq = { buffer: keep ?? this.o.scratch.get(`prep.${role}`, n), size: n * 4 };
    const q = { buffer: this.o.scratch.get(`pack.${role}`, n / 8), size: n / 2 };
    const sc = { buffer: this.o.scratch.get(`packsc.${role}`, n / 32), size: n / 8 };
    const salt = (this.o.salt * 0x9e3779b1 + roleSalt[role]) >>> 0;
    const est = !!(p.estimator && mult);
    const key = `pack:${p.id}:${R}:${C}:${axis}:${est}:${salt}`;
    const pipe = this.#rt.pipeline(key, () => p.pack!(R, C, axis, est, salt));
    const slices: (Slice | GPUBuffer)[] = [src, deq, this.o.stepUniform, q, sc];
    if (est) slices.push({ buffer: mult!, size: n * 4 });
    prog.add(this.#rt.dispatch(`${this.o.name} pack ${role}`, pipe, slices, grid1d(n / p.group)));
    return { q, sc, deq };
  }

  /** Records the packed FP4 GEMM C[M, N] = A·Bᵀ (+ D), both packed along K. */
  #fp4(
    prog: Program,
    label: string,
    a: { q: Slice; sc: Slice },
    b: { q: Slice; sc: Slice },
    M: number,
    N: number,
    K: number,
    c: Slice,
    d?: Slice,
  ): void {
    const pipe = this.#rt.pipeline(`fp4gemm:${M}:${N}:${K}:${!!d}`, () => fp4GemmKernel(M, N, K, !!d));
    const sl: (Slice | GPUBuffer)[] = [a.q, a.sc, b.q, b.sc, c];
    if (d) sl.push(d);
    prog.add(this.#rt.dispatch(label, pipe, sl, fp4GemmGrid(M, N), 2 * M * N * K));
  }

  /** Records an in-place gradient post-pass on `d` ([R, C], groups along C) with multiplier `mult`. */
  #post(prog: Program, role: string, p: OperandPrep, d: Slice, R: number, C: number, mult?: GPUBuffer): void {
    if (p.forLength) p = p.forLength(C);
    if (C % p.group) throw new Error(`${this.o.name}: group ${p.group} does not divide ${role} post`);
    const m = !!mult, runs = this.o.runs, n = (runs?.runs ?? 1) * R * C;
    let key = `post:${p.id}:${R}:${C}:${p.group}:${m}`, dd = d, packed: Runs | undefined;
    let gm: Slice | GPUBuffer | undefined = mult;
    if (runs) {
      // dX is dense [K·M, inF]; dW lives in the gradient slabs
      const S = role === "dw" ? runs.stride : R * C;
      key = `postruns:${p.id}:${R}:${C}:${p.group}:${m}:${runs.runs}:${S}`;
      dd = role === "dw" ? allRuns(d, R * C, runs) : { ...d, size: n * 4 };
      if (m) gm = { buffer: mult!, size: n * 4 };
      packed = { runs: runs.runs, stride: S };
    }
    const pipe = this.#rt.pipeline(key, () => postKernel(R, C, p.group, p.wgsl, m, packed));
    const slices: (Slice | GPUBuffer)[] = [dd, this.o.stepUniform];
    if (gm) slices.push(gm);
    prog.add(this.#rt.dispatch(`${this.o.name} post ${role}`, pipe, slices, grid1d(n / p.group)));
  }
}

const roleSalt: Record<string, number> = {
  "fwd.x": 0x1111,
  "fwd.w": 0x2222,
  "dx.dy": 0x3333,
  "dx.w": 0x4444,
  "dw.dy": 0x5555,
  "dw.x": 0x6666,
};

/**
 * Why a layer of this scheme cannot run K packed runs (undefined: it can). Packed GEMMs batch over runs on
 * texture operands; prepare and post passes run per run (their own seeds, step records and groups); the
 * packed-FP4 GEMM path and a dW estimator multiplier applied in the GEMM epilogue have no run dimension yet.
 */
export function packProblem(
  s: LinearScheme,
  backends: { fwd: Backend; dx: Backend; dw: Backend },
  textures: boolean,
  dwMultiplier: boolean,
): string | undefined {
  if (!textures) return "packed runs need texture operands";
  if (Object.values(backends).includes("fp4")) return `scheme ${s.name} runs packed-FP4 GEMMs`;
  if (dwMultiplier && !s.fwd.post?.w) return `scheme ${s.name} multiplies dW in the GEMM epilogue`;
  return undefined;
}
