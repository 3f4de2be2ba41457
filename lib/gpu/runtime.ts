/**
 * The one WebGPU runtime of the project (engine layers, format kernels, tools): pipeline cache, buffer
 * helpers and recorded programs, on the process's one device ({@link sharedRuntime}).
 *
 * A `Program` is a list of dispatches (pipeline + bind group + grid) and copies, built once and
 * replayed every step into a single command encoder: no bind groups are created in the hot loop and
 * the whole step is one submit.
 * @module
 */
import { getGpu } from "./device.ts";

/** A buffer range bound to one binding slot. */
export interface Slice {
  /** Buffer. */
  buffer: GPUBuffer;
  /** Byte offset (a multiple of the device's storage offset alignment). */
  offset?: number;
  /** Byte size (default: rest of the buffer). */
  size?: number;
}

/** Anything bindable: a whole buffer, a buffer range, or a texture view. */
export type Binding = Slice | GPUBuffer | GPUTextureView;

/** One recorded compute dispatch. */
export interface Dispatch {
  /** Human-readable label (kernel name). */
  label: string;
  /** Pipeline. */
  pipeline: GPUComputePipeline;
  /** Bind group 0. */
  bindGroup: GPUBindGroup;
  /** Workgroup grid. */
  grid: [number, number, number];
  /** FLOPs the dispatch performs (GEMMs only; for benchmarks). */
  flops: number;
}

/** One recorded buffer copy (ends the current compute pass). */
export interface Copy {
  /** Source. */
  src: GPUBuffer;
  /** Source byte offset. */
  srcOffset: number;
  /** Destination; a function lets the target rotate (read-back rings). */
  dst: GPUBuffer | (() => GPUBuffer);
  /** Destination byte offset. */
  dstOffset: number;
  /** Bytes. */
  size: number;
}

/** One recorded buffer-to-texture copy (rows of `bytesPerRow`, a multiple of 256). */
export interface TexCopy {
  /** Source buffer. */
  src: GPUBuffer;
  /** Source byte offset (multiple of 16). */
  srcOffset: number;
  /** Bytes per row. */
  bytesPerRow: number;
  /** Destination texture. */
  dst: GPUTexture;
  /** Texels per row. */
  width: number;
  /** Rows. */
  height: number;
}

/** Pipeline cache and allocation helpers around one device. */
export class Runtime {
  /** The device. */
  readonly device: GPUDevice;
  /** Storage-buffer binding offset alignment in bytes. */
  readonly align: number;
  #pipelines = new Map<string, GPUComputePipeline>();
  #bytes = 0;
  #peak = 0;
  #arena: (GPUBuffer | GPUTexture)[] | undefined;

  /** Starts recording every buffer/texture allocated here until {@link closeArena}. */
  openArena(): void {
    this.#arena = [];
  }

  /** Stops recording; returns the resources allocated since {@link openArena} (free them with {@link freeAll}). */
  closeArena(): (GPUBuffer | GPUTexture)[] {
    const a = this.#arena ?? [];
    this.#arena = undefined;
    return a;
  }

  /** Destroys resources returned by {@link closeArena} and updates the allocation count. */
  freeAll(list: (GPUBuffer | GPUTexture)[]): void {
    for (const r of list) {
      if (r instanceof GPUBuffer) this.#bytes -= r.size;
      else this.#bytes -= r.width * r.height * 16;
      r.destroy();
    }
    list.length = 0;
  }

  /** Wraps a device. */
  constructor(device: GPUDevice) {
    this.device = device;
    this.align = device.limits.minStorageBufferOffsetAlignment;
  }

  /** Bytes currently allocated through this runtime. */
  get allocatedBytes(): number {
    return this.#bytes;
  }

  /** Peak bytes allocated through this runtime. */
  get peakBytes(): number {
    return this.#peak;
  }

  /** Number of distinct pipelines compiled so far. */
  get pipelineCount(): number {
    return this.#pipelines.size;
  }

  /** Compiles (or returns the cached) pipeline for WGSL `code` under `key`. */
  pipeline(key: string, code: () => string): GPUComputePipeline {
    let p = this.#pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code: code(), label: key.slice(0, 60) });
      p = this.device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
      this.#pipelines.set(key, p);
    }
    return p;
  }

  /** A zero-initialised storage buffer of `bytes` (rounded up to 16). */
  storage(bytes: number, label: string, extraUsage = 0): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    this.#bytes += size;
    this.#peak = Math.max(this.#peak, this.#bytes);
    const b = this.device.createBuffer({
      size,
      label,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
    });
    this.#arena?.push(b);
    return b;
  }

  /** A uniform buffer of `bytes`. */
  uniform(bytes: number, label: string): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    this.#bytes += size;
    this.#peak = Math.max(this.#peak, this.#bytes);
    const b = this.device.createBuffer({
      size,
      label,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.#arena?.push(b);
    return b;
  }

  /** A MAP_READ staging buffer. */
  readback(bytes: number, label: string): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    return this.device.createBuffer({
      size,
      label,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** Releases a buffer allocated here. */
  free(b: GPUBuffer): void {
    this.#bytes -= b.size;
    b.destroy();
  }

  /** An rgba32float (or `format`) texture of `width` texels × `height` rows (sampled, storage, copy target). */
  texture(
    width: number,
    height: number,
    label: string,
    format: GPUTextureFormat = "rgba32float",
  ): GPUTexture {
    this.#bytes += width * height * 16;
    this.#peak = Math.max(this.#peak, this.#bytes);
    const t = this.device.createTexture({
      size: [width, height],
      format,
      label,
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST,
    });
    this.#arena?.push(t);
    return t;
  }

  /** Largest 2-D texture side the device allows. */
  get maxTextureSide(): number {
    return this.device.limits.maxTextureDimension2D;
  }

  /** Builds a dispatch: binds `slices` (buffers, buffer ranges or texture views) to bindings 0..n-1. */
  dispatch(
    label: string,
    pipeline: GPUComputePipeline,
    slices: Binding[],
    grid: [number, number, number],
    flops = 0,
  ): Dispatch {
    const entries: GPUBindGroupEntry[] = slices.map((s, i) => {
      if (s instanceof GPUTextureView) return { binding: i, resource: s };
      const sl: Slice = s instanceof GPUBuffer ? { buffer: s } : s;
      const resource: GPUBufferBinding = { buffer: sl.buffer, offset: sl.offset ?? 0 };
      if (sl.size !== undefined) resource.size = sl.size;
      return { binding: i, resource };
    });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label });
    return { label, pipeline, bindGroup, grid, flops };
  }

  /** Reads `bytes` of `src` (awaits the queue: use outside the hot loop). */
  async read(src: GPUBuffer, bytes = src.size, offset = 0): Promise<ArrayBuffer> {
    const rb = this.readback(bytes, "read");
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(src, offset, rb, 0, Math.ceil(bytes / 4) * 4);
    this.device.queue.submit([enc.finish()]);
    await rb.mapAsync(GPUMapMode.READ);
    const out = rb.getMappedRange().slice(0, bytes);
    rb.unmap();
    rb.destroy();
    return out;
  }
}

/** A recorded sequence of dispatches and copies, replayed as one submit. */
export class Program {
  /** Recorded items, in order. */
  readonly items: (Dispatch | Copy | TexCopy)[] = [];

  /** A program of the given dispatches (tests and tools submit single kernels this way). */
  static of(...items: Dispatch[]): Program {
    const p = new Program();
    for (const d of items) p.add(d);
    return p;
  }

  /** Appends a dispatch. */
  add(d: Dispatch): void {
    this.items.push(d);
  }

  /** Appends a copy. */
  copy(c: Copy | TexCopy): void {
    this.items.push(c);
  }

  /** Total GEMM FLOPs of one replay. */
  get flops(): number {
    let s = 0;
    for (const it of this.items) if ("flops" in it) s += it.flops;
    return s;
  }

  /** Number of dispatches. */
  get dispatchCount(): number {
    return this.items.filter((it) => "pipeline" in it).length;
  }

  /** Encodes the program into `enc`. */
  encode(enc: GPUCommandEncoder): void {
    let pass: GPUComputePassEncoder | undefined;
    for (const it of this.items) {
      if ("pipeline" in it) {
        pass ??= enc.beginComputePass();
        pass.setPipeline(it.pipeline);
        pass.setBindGroup(0, it.bindGroup);
        pass.dispatchWorkgroups(it.grid[0], it.grid[1], it.grid[2]);
      } else {
        if (pass) {
          pass.end();
          pass = undefined;
        }
        if ("bytesPerRow" in it) {
          enc.copyBufferToTexture(
            { buffer: it.src, offset: it.srcOffset, bytesPerRow: it.bytesPerRow, rowsPerImage: it.height },
            { texture: it.dst },
            [it.width, it.height],
          );
          continue;
        }
        const dst = typeof it.dst === "function" ? it.dst() : it.dst;
        enc.copyBufferToBuffer(it.src, it.srcOffset, dst, it.dstOffset, it.size);
      }
    }
    pass?.end();
  }

  /** Encodes and submits the program. */
  submit(device: GPUDevice): void {
    const enc = device.createCommandEncoder();
    this.encode(enc);
    device.queue.submit([enc.finish()]);
  }
}

let shared: { device: GPUDevice; rt: Runtime; adapter: string } | undefined;

/** The process's runtime (one pipeline cache) on the shared device of lib/gpu/device.ts. */
export async function sharedRuntime(): Promise<{ rt: Runtime; adapter: string }> {
  const gpu = await getGpu();
  if (!shared || shared.device !== gpu.device) {
    shared = { device: gpu.device, rt: new Runtime(gpu.device), adapter: gpu.adapter };
  }
  return shared;
}
