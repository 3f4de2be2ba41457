/**
 * Host wrapper: runs the operand pipeline of a QuantSpec on the GPU (the same steps as quantizeTensor):
 * [rotate] → [tensor amax (two-level)] → scales (one invocation per group) → round (one per element)
 * → [rotate back]. All passes go into one command buffer; one submit and one readback per call.
 * @module
 */
import { type Runtime, sharedRuntime } from "../../lib/gpu/runtime.ts";
import { wgslF32 } from "../../lib/formats/f32.ts";
import {
  groupsOf,
  type QuantResult,
  type QuantSpec,
  type TensorOptions,
  validateSpec,
} from "../../lib/formats/scaling.ts";
import { type OperandFns, wgslHadamardStorage, wgslIdent, WgslLib, wgslStatsLoop } from "./wgsl.ts";

const WG = 64;
const PARTIAL = 1024;
/** Largest element count per dispatch row: the x dimension holds at most 65535 workgroups. */
const ROW = 65535 * WG;

/** What the GPU run returns besides the values. */
export interface GpuOutputs {
  /** Also return element codes. */
  codes?: boolean;
  /** Also return the clip mask. */
  mask?: boolean;
}

/**
 * Whether a spec can run as one fused kernel (one invocation per chunk of max(block, hadamard) values,
 * built from `WgslLib.operand`): blocks along the last axis, or unit scale.
 */
export function fusable(spec: QuantSpec): boolean {
  const g = spec.scale.granularity;
  return (g === "block" && (spec.scale.axis ?? 1) === 1) || g === "none";
}

function dims(threads: number): [number, number] {
  const wgs = Math.ceil(threads / WG);
  if (wgs <= 65535) return [Math.max(wgs, 1), 1];
  return [65535, Math.ceil(wgs / 65535)];
}

/** WGSL of the multi-pass pipeline for one (spec, shape). Exposed for inspection and tests. */
export function pipelineSource(
  spec: QuantSpec,
  rows: number,
  cols: number,
  outputs: GpuOutputs = { codes: true, mask: true },
): string {
  validateSpec(spec);
  const n = rows * cols;
  const grp = groupsOf(spec.scale, rows, cols);
  const lib = new WgslLib();
  const { scale, round } = lib.scaleAndRound(spec, "op", grp.len);
  const fused = fusable(spec) ? lib.operand(spec, "op") : undefined;
  lib.rng();
  const hs = spec.hadamard?.size ?? 0;
  const signSeed = spec.hadamard?.signSeed;
  const enc = `encode_${wgslIdent(spec.element.name)}`;
  const src = hs ? "T" : "X";
  const g = spec.scale.granularity;
  const b = spec.scale.block ?? 1;
  const axis = spec.scale.axis ?? 1;
  // group of flat element i, and flat index of element j of group gi (same as groupsOf)
  const groupOf = g === "none" || g === "tensor"
    ? "0u"
    : g === "row"
    ? `i / ${cols}u`
    : g === "col"
    ? `i % ${cols}u`
    : axis === 1
    ? `i / ${b}u`
    : `((i / ${cols}u) / ${b}u) * ${cols}u + (i % ${cols}u)`;
  const indexOf = g === "none" || g === "tensor"
    ? "j"
    : g === "row"
    ? `gi * ${cols}u + j`
    : g === "col"
    ? `j * ${cols}u + gi`
    : axis === 1
    ? `gi * ${b}u + j`
    : `((gi / ${cols}u) * ${b}u + j) * ${cols}u + (gi % ${cols}u)`;
  const np = Math.max(1, Math.ceil(n / PARTIAL));
  const sr = spec.rounding === "stochastic";
  const tsExpr = spec.scale.tensorScale ? `P[${np + 1}u]` : "1.0";
  // Per-tensor amax is order-independent, so it runs as a parallel reduction; σ-based rules need the
  // sequential f32 sums of the TS reference and keep the single-invocation loop.
  const parallelAmax = g === "tensor" && spec.scale.rule !== "quest" && spec.scale.rule !== "quest-round";
  return `${lib.source()}
struct Params { seed: u32, ctr_off: u32 }
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> T: array<f32>;
@group(0) @binding(2) var<storage, read_write> S: array<Fp4Scale>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<u32>;
@group(0) @binding(5) var<storage, read_write> M: array<u32>;
@group(0) @binding(6) var<storage, read_write> P: array<f32>;
@group(0) @binding(7) var<uniform> prm: Params;

fn tid(g: vec3u) -> u32 { return g.x + g.y * ${ROW}u; }

@compute @workgroup_size(${WG}) fn rotate(@builtin(global_invocation_id) gid: vec3u) {
  ${
    hs
      ? `let t = tid(gid);
  if (t >= ${n / hs}u) { return; }
  let base = t * ${hs}u;
${
        wgslHadamardStorage(hs, (i) => `X[${i}]`, (i, e) => `T[${i}] = ${e};`, (i) => `T[${i}]`, "base", {
          signSeed,
        })
      }`
      : ""
  }
}
@compute @workgroup_size(${WG}) fn unrotate(@builtin(global_invocation_id) gid: vec3u) {
  ${
    hs
      ? `let t = tid(gid);
  if (t >= ${n / hs}u) { return; }
  let base = t * ${hs}u;
${
        wgslHadamardStorage(hs, (i) => `O[${i}]`, (i, e) => `O[${i}] = ${e};`, (i) => `O[${i}]`, "base", {
          signSeed,
          inverse: true,
        })
      }`
      : ""
  }
}
@compute @workgroup_size(${WG}) fn amax_partial(@builtin(global_invocation_id) gid: vec3u) {
  let t = tid(gid);
  if (t >= ${np}u) { return; }
  var amax = 0.0;
  for (var i = t * ${PARTIAL}u; i < min(${n}u, (t + 1u) * ${PARTIAL}u); i = i + 1u) {
    let val = ${src}[i];
    if ((bitcast<u32>(val) & 0x7f800000u) != 0x7f800000u) { amax = max(amax, fp4_abs(val)); }
  }
  P[t] = amax;
}
@compute @workgroup_size(1) fn amax_final() {
  var amax = 0.0;
  for (var t = 0u; t < ${np}u; t = t + 1u) { amax = max(amax, P[t]); }
  P[${np}u] = amax;
  P[${np + 1}u] = amax / ${wgslF32(Math.fround(448 * spec.element.max))};
}
@compute @workgroup_size(${WG}) fn scales(@builtin(global_invocation_id) gid: vec3u) {
  let gi = tid(gid);
  if (gi >= ${grp.count}u) { return; }
${
    g === "none"
      ? "  S[gi] = Fp4Scale(1.0, 0x3f800000u);"
      : parallelAmax
      ? `  S[gi] = ${scale}(P[${np}u], 0.0, 0.0, ${tsExpr});`
      : `${
        wgslStatsLoop(`${grp.len}u`, `${src}[${indexOf}]`)
      }  S[gi] = ${scale}(amax, sum, sumsq, ${tsExpr});`
  }
}
${fused ? fusedEntries(fused, n, tsExpr, g === "none") : ""}
@compute @workgroup_size(${WG}) fn quant(@builtin(global_invocation_id) gid: vec3u) {
  let i = tid(gid);
  if (i >= ${n}u) { return; }
  let r = ${round}(${src}[i], S[${groupOf}], ${sr ? "fp4_rng_uniform(prm.seed, prm.ctr_off + i)" : "-1.0"});
  O[i] = r.deq;${outputs.codes ? `\n  C[i] = ${enc}(r.q);` : ""}${
    outputs.mask ? "\n  M[i] = select(0u, 1u, r.keep);" : ""
  }
}
`;
}

/** The fused entry points `fused` (rotates back) and `fused_rotated` (leaves values rotated). */
function fusedEntries(f: OperandFns, n: number, tsExpr: string, unit: boolean): string {
  const L = f.len;
  const entry = (name: string, back: boolean) => `
@compute @workgroup_size(${WG}) fn ${name}(@builtin(global_invocation_id) gid: vec3u) {
  let c = tid(gid);
  if (c >= ${n / L}u) { return; }
  let base = c * ${L}u;
  var v: array<f32, ${L}>;
  for (var j = 0u; j < ${L}u; j = j + 1u) { v[j] = X[base + j]; }
  var sc: array<Fp4Scale, ${f.groups}>;
  var m: array<u32, ${f.maskWords}>;
  ${f.quantize}(&v, &sc, &m, prm.seed, prm.ctr_off + base, ${tsExpr});${
    back && f.unrotate ? `\n  ${f.unrotate}(&v);` : ""
  }
  for (var j = 0u; j < ${L}u; j = j + 1u) { O[base + j] = v[j]; }
  ${
    unit
      ? "if (c == 0u) { S[0] = sc[0]; }"
      : `for (var b = 0u; b < ${f.groups}u; b = b + 1u) { S[c * ${f.groups}u + b] = sc[b]; }`
  }
}`;
  return entry("fused", true) + entry("fused_rotated", false);
}

/** A compiled pipeline set for one (spec, shape); reusable across calls (benchmarks). */
export class GpuQuantizer {
  /** Rows of the tensor shape. */
  readonly rows: number;
  /** Columns (last axis) of the tensor shape. */
  readonly cols: number;
  /** The spec the pipelines were generated for. */
  readonly spec: QuantSpec;
  private device: GPUDevice;
  private rt: Runtime;
  private pipes: Record<string, GPUComputePipeline>;
  private bufs: Record<string, GPUBuffer>;
  private bind: GPUBindGroup;
  private count: number;
  private np: number;
  private amaxPasses: boolean;

  /** Which extra outputs the round pass writes (codes, mask). */
  readonly outputs: GpuOutputs;
  /** True when the values come from the single fused kernel (see `fusable`), false for the multi-pass one. */
  readonly fused: boolean;

  private constructor(
    rt: Runtime,
    spec: QuantSpec,
    rows: number,
    cols: number,
    outputs: GpuOutputs,
    path: GpuPath,
  ) {
    this.rt = rt;
    const device = (this.device = rt.device);
    this.outputs = outputs;
    const canFuse = fusable(spec) && !outputs.codes && !outputs.mask;
    if (path === "fused" && !canFuse) throw new Error("GpuQuantizer: this spec/output set cannot run fused");
    // auto: the fused kernel is ~2× faster for blocks (one load per element instead of ~4); with H128 its
    // loop Hadamard is still ~1.25× faster than the multi-pass rotation (per CPU-second, llvmpipe).
    this.fused = path === "fused" || (path === "auto" && canFuse);
    this.spec = spec;
    this.rows = rows;
    this.cols = cols;
    const n = rows * cols;
    this.count = groupsOf(spec.scale, rows, cols).count;
    this.np = Math.max(1, Math.ceil(n / PARTIAL));
    const rule = spec.scale.rule;
    this.amaxPasses = !!spec.scale.tensorScale ||
      (spec.scale.granularity === "tensor" && rule !== "quest" && rule !== "quest-round");
    const module = device.createShaderModule({ code: pipelineSource(spec, rows, cols, outputs) });
    const entries: GPUBindGroupLayoutEntry[] = [];
    for (let b = 0; b < 8; b++) {
      entries.push({
        binding: b,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b === 7 ? "uniform" : b === 0 ? "read-only-storage" : "storage" },
      });
    }
    const bgl = device.createBindGroupLayout({ entries });
    const layout = device.createPipelineLayout({ bindGroupLayouts: [bgl] });
    this.pipes = {};
    const names = this.fused ? ["fused", "fused_rotated"] : ["scales", "quant"];
    if (spec.hadamard && !this.fused) names.push("rotate", "unrotate");
    if (this.amaxPasses) names.push("amax_partial", "amax_final");
    for (const e of names) {
      this.pipes[e] = device.createComputePipeline({ layout, compute: { module, entryPoint: e } });
    }
    const mk = (bytes: number, uniform = false) =>
      uniform ? rt.uniform(bytes, "quantizer params") : rt.storage(bytes, "quantizer");
    this.bufs = {
      X: mk(n * 4),
      T: mk(spec.hadamard ? n * 4 : 16),
      S: mk(this.count * 8),
      O: mk(n * 4),
      C: mk(outputs.codes ? n * 4 : 16),
      M: mk(outputs.mask ? n * 4 : 16),
      P: mk((this.np + 2) * 4),
      U: mk(16, true),
    };
    const order = ["X", "T", "S", "O", "C", "M", "P", "U"];
    this.bind = device.createBindGroup({
      layout: bgl,
      entries: order.map((k, binding) => ({ binding, resource: { buffer: this.bufs[k] } })),
    });
  }

  /**
   * Compiles the pipelines for a spec and shape on the shared device. `outputs` selects the extra
   * per-element outputs the round pass writes (default: codes and mask; a pure fake-quant run wants none).
   */
  static async create(
    spec: QuantSpec,
    rows: number,
    cols: number,
    outputs: GpuOutputs = { codes: true, mask: true },
    path: GpuPath = "auto",
  ): Promise<GpuQuantizer> {
    const { rt } = await sharedRuntime();
    return new GpuQuantizer(rt, spec, rows, cols, outputs, path);
  }

  /** The input buffer (n f32); write values with `queue.writeBuffer` or `upload`. */
  get input(): GPUBuffer {
    return this.bufs.X;
  }

  /** The dequantized output buffer (n f32). */
  get output(): GPUBuffer {
    return this.bufs.O;
  }

  /** Uploads input values and the RNG parameters. */
  upload(x: Float32Array): void {
    if (x.length !== this.rows * this.cols) {
      throw new Error(`expected ${this.rows * this.cols} values, got ${x.length}`);
    }
    this.device.queue.writeBuffer(this.bufs.X, 0, x as Float32Array<ArrayBuffer>);
    this.device.queue.writeBuffer(
      this.bufs.U,
      0,
      new Uint32Array([(this.spec.seed ?? 0) >>> 0, (this.spec.counterOffset ?? 0) >>> 0, 0, 0]),
    );
  }

  /** Records all passes into `enc` (no submit): lets callers batch many runs into one submit. */
  encode(enc: GPUCommandEncoder): void {
    const n = this.rows * this.cols;
    const pass = enc.beginComputePass();
    pass.setBindGroup(0, this.bind);
    const run = (name: string, threads: number) => {
      pass.setPipeline(this.pipes[name]);
      const [x, y] = dims(threads);
      pass.dispatchWorkgroups(x, y);
    };
    const hs = this.spec.hadamard?.size;
    if (this.fused) {
      if (this.amaxPasses) {
        run("amax_partial", this.np);
        pass.setPipeline(this.pipes.amax_final);
        pass.dispatchWorkgroups(1);
      }
      const L = Math.max(this.spec.scale.granularity === "block" ? this.spec.scale.block! : 1, hs ?? 1);
      run(this.rotateBack ? "fused" : "fused_rotated", n / L);
      pass.end();
      return;
    }
    if (hs) run("rotate", n / hs);
    if (this.amaxPasses) {
      run("amax_partial", this.np);
      pass.setPipeline(this.pipes.amax_final);
      pass.dispatchWorkgroups(1);
    }
    run("scales", this.count);
    run("quant", n);
    if (hs && this.rotateBack) run("unrotate", n / hs);
    pass.end();
  }

  /** Rotate the output back to the original basis (default true). */
  rotateBack = true;

  /** Uploads x, runs once, reads back the requested outputs (one submit, one map per buffer set). */
  async run(x: Float32Array, outputs: GpuOutputs = {}): Promise<QuantResult> {
    this.upload(x);
    const n = this.rows * this.cols;
    const enc = this.device.createCommandEncoder();
    this.encode(enc);
    const want: [string, number][] = [["O", n * 4], ["S", this.count * 8], ["P", (this.np + 2) * 4]];
    if (outputs.codes && !this.outputs.codes) {
      throw new Error("GpuQuantizer: created without the codes output");
    }
    if (outputs.mask && !this.outputs.mask) throw new Error("GpuQuantizer: created without the mask output");
    if (outputs.codes) want.push(["C", n * 4]);
    if (outputs.mask) want.push(["M", n * 4]);
    const total = want.reduce((a, [, b]) => a + b, 0);
    const rb = this.rt.readback(total, "quantizer read");
    let off = 0;
    const offs: Record<string, number> = {};
    for (const [k, bytes] of want) {
      enc.copyBufferToBuffer(this.bufs[k], 0, rb, off, bytes);
      offs[k] = off;
      off += bytes;
    }
    this.device.queue.submit([enc.finish()]);
    await rb.mapAsync(GPUMapMode.READ);
    const all = rb.getMappedRange().slice(0);
    rb.unmap();
    rb.destroy();
    const sc = new Uint32Array(all, offs.S, this.count * 2);
    const scales = new Float32Array(this.count), scaleCodes = new Uint32Array(this.count);
    const scF = new Float32Array(sc.buffer, sc.byteOffset, sc.length);
    for (let g = 0; g < this.count; g++) {
      scales[g] = scF[2 * g];
      scaleCodes[g] = sc[2 * g + 1];
    }
    const m = outputs.mask ? new Uint32Array(all, offs.M, n) : undefined;
    return {
      values: new Float32Array(all, offs.O, n).slice(),
      codes: outputs.codes ? new Uint32Array(all, offs.C, n).slice() : new Uint32Array(0),
      scales,
      scaleCodes,
      tensorScale: this.spec.scale.tensorScale ? new Float32Array(all, offs.P, this.np + 2)[this.np + 1] : 1,
      mask: m ? Uint8Array.from(m) : new Uint8Array(0),
    };
  }

  /** Frees the buffers. */
  destroy(): void {
    for (const b of Object.values(this.bufs)) this.rt.free(b);
  }
}

/**
 * Kernel choice: "multipass" (rotate, scales, round, unrotate: any granularity, codes and mask),
 * "fused" (one kernel per chunk from `WgslLib.operand`: blocks along the last axis or unit scale, values
 * and scales only), "auto" (fused when possible).
 */
export type GpuPath = "auto" | "fused" | "multipass";

/** Options of quantizeGpu: the tensor shape (TensorOptions), extra outputs, and the kernel path. */
export interface GpuQuantOptions extends TensorOptions, GpuOutputs {
  /** Kernel path (default "auto"). */
  path?: GpuPath;
}

/**
 * One-shot GPU quantization of `x` (the GPU twin of quantizeTensor): compiles, runs, reads back, frees.
 * Codes and mask are returned only when asked for (empty arrays otherwise).
 */
export async function quantizeGpu(
  x: Float32Array,
  spec: QuantSpec,
  opts: GpuQuantOptions = {},
): Promise<QuantResult> {
  const cols = opts.cols ?? x.length;
  const rows = opts.rows ?? x.length / cols;
  if (!Number.isInteger(rows) || rows * cols !== x.length) {
    throw new Error(`shape ${rows}×${cols} does not match length ${x.length}`);
  }
  if (spec.hadamard && cols % spec.hadamard.size !== 0) {
    throw new Error(`row length ${cols} is not a multiple of the hadamard block ${spec.hadamard.size}`);
  }
  const q = await GpuQuantizer.create(
    spec,
    rows,
    cols,
    { codes: opts.codes, mask: opts.mask },
    opts.path ?? "auto",
  );
  q.rotateBack = opts.rotateBack ?? true;
  try {
    return await q.run(x, opts);
  } finally {
    q.destroy();
  }
}
