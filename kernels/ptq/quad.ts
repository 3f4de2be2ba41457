/**
 * GPU evaluator of lib/ptq/quad_batch.ts's batched quadratic-form errors. For every candidate row the error
 * e_r = q_rᵀ·G·q_r − 2·c_{r mod nC}ᵀ·q_r is rewritten around the target's float row (Δ_r = q_r − ref_c,
 * c' = c − G·ref_c):  e_r = Δ_rᵀ·(G·Δ_r) − 2·c'ᵀ·Δ_r + (ref_cᵀ·G·ref_c − 2·c_cᵀ·ref_c). The GEMM-shaped part
 * T = Δ·G ([R, K]×[K, K], R = candidates × targets) runs on the GPU with the engine's one GEMM generator
 * (kernels/engine/gemm.ts, f32, chunks of {@link CHUNK} rows through bound buffer ranges, so each width K
 * compiles one pipeline); the row dots and the constants are float64 on the host; the argmin stays with the
 * search. Working on the small differences Δ (not on q) keeps the digits that separate neighbouring
 * candidates in f32.
 * @module
 */
import { Program, type Runtime, sharedRuntime } from "../../lib/gpu/runtime.ts";
import { gemmFlops, gemmGrid, gemmKey, type GemmSpec, gemmWgsl, tileFor } from "../engine/gemm.ts";
import { evalQuadCpu, type QuadRequest } from "../../lib/ptq/quad_batch.ts";

/** Candidate rows per GEMM dispatch (the last chunk is zero-padded). */
export const CHUNK = 2048;

/**
 * The GEMM spec of one chunk: T [CHUNK, Kp] = Δ [CHUNK, Kp] · G [Kp, Kp] (Kp = K rounded up to 8). Register
 * tiles at most 16 a side: a 32×32 kernel compiles in ~5 s on a cold Mesa shader cache (16×16: ~0.5 s), too
 * much for one pipeline per layer width used for a few seconds.
 */
export function quadGemmSpec(Kp: number): GemmSpec {
  const t = tileFor(CHUNK, Kp, Kp);
  const tm = t.tm === 32 ? 16 : t.tm, tn = t.tn === 32 ? 16 : t.tn;
  const tiles = (CHUNK / tm) * (Kp / tn);
  return {
    M: CHUNK,
    N: Kp,
    K: Kp,
    transA: false,
    transB: false,
    a: { ld: Kp },
    b: { ld: Kp },
    c: { ld: Kp },
    tm,
    tn,
    wg: tiles >= 1024 ? 64 : 16, // as tileFor picks it
  };
}

/**
 * Requests smaller than this many multiply-adds (candidate rows × K²) are answered by the float64 CPU
 * reference instead: on llvmpipe one GPU round trip costs ~35 ms whatever the size, which the CPU's
 * incremental evaluation beats below about 2^24 (measured: K 32 × 12,800 rows 48 ms CPU vs 46 ms GPU;
 * K 96 × 3,200 rows 91 vs 39 ms; K 96 × 12,800 rows 290 vs 82 ms).
 */
export const MIN_GPU_MACS = 2 ** 24;

/** Counts of one evaluator's answers. */
export interface QuadStats {
  /** Requests answered on the GPU. */
  gpuRequests: number;
  /** Requests answered by the float64 CPU reference (below the size threshold). */
  cpuRequests: number;
  /** Multiply-adds of the GPU's GEMMs (candidate rows × K², padding excluded). */
  gpuMacs: number;
}

/** A GPU evaluator bound to one runtime. */
export interface GpuQuad {
  /** Adapter description. */
  adapter: string;
  /** Errors of requests (see lib/ptq/quad_batch.ts), float64 values computed as described above. */
  evaluate(reqs: QuadRequest[]): Promise<Float64Array[]>;
  /** What went where so far. */
  stats: QuadStats;
}

/**
 * The evaluator on the process's shared runtime (throws one line when no WebGPU adapter exists). Requests
 * under `minMacs` multiply-adds (default {@link MIN_GPU_MACS}; 0: every request on the GPU) go to the CPU.
 */
export async function gpuQuad(minMacs = MIN_GPU_MACS): Promise<GpuQuad> {
  const { rt, adapter } = await sharedRuntime();
  const stats: QuadStats = { gpuRequests: 0, cpuRequests: 0, gpuMacs: 0 };
  const macs = (r: QuadRequest) => r.nB * r.nC * r.K * r.K;
  return {
    adapter,
    stats,
    async evaluate(reqs) {
      const big = reqs.filter((r) => macs(r) >= minMacs);
      const fromGpu = big.length ? await evaluateQuads(rt, big) : [];
      let gi = 0;
      return reqs.map((r) => {
        if (macs(r) < minMacs) {
          stats.cpuRequests++;
          return evalQuadCpu(r);
        }
        stats.gpuRequests++;
        stats.gpuMacs += macs(r);
        return fromGpu[gi++];
      });
    },
  };
}

interface Prepared {
  req: QuadRequest;
  Kp: number;
  R: number;
  /** Byte offset of the request's chunks in the Δ and T buffers. */
  at: number;
  D: Float32Array<ArrayBuffer>;
  Cp: Float64Array;
  konst: Float64Array;
}

/** Host float64 part of one request: Δ (f32, padded), c' = c − G·ref, the constants ref·G·ref − 2c·ref. */
function prepare(req: QuadRequest, at: number): Prepared {
  const { G, K, C, ref, nC, Q, nB } = req;
  const Kp = Math.ceil(K / 8) * 8, R = nB * nC, chunks = Math.ceil(R / CHUNK);
  const Cp = new Float64Array(nC * K), konst = new Float64Array(nC);
  for (let c = 0; c < nC; c++) {
    let k0 = 0;
    for (let i = 0; i < K; i++) {
      let gr = 0;
      for (let j = 0; j < K; j++) gr += G[i * K + j] * ref[c * K + j];
      const ri = ref[c * K + i];
      Cp[c * K + i] = C[c * K + i] - gr;
      k0 += ri * gr - 2 * C[c * K + i] * ri;
    }
    konst[c] = k0;
  }
  const D = new Float32Array(chunks * CHUNK * Kp);
  for (let r = 0; r < R; r++) {
    const qo = r * K, ro = (r % nC) * K, o = r * Kp;
    for (let k = 0; k < K; k++) D[o + k] = Q[qo + k] - ref[ro + k];
  }
  return { req, Kp, R, at, D, Cp, konst };
}

/**
 * Evaluates requests on `rt` (see the module comment): every chunk of every request in one submit and one
 * read-back (a search's independent candidate sets — one per format — share one GPU round trip).
 */
export async function evaluateQuads(rt: Runtime, reqs: QuadRequest[]): Promise<Float64Array[]> {
  const preps: Prepared[] = [];
  let bytes = 0;
  for (const req of reqs) {
    const p = prepare(req, bytes);
    preps.push(p);
    bytes += p.D.byteLength; // whole chunks: multiples of CHUNK·4 bytes, so every offset stays aligned
  }
  const dBuf = rt.storage(bytes, "ptq Δ"), tBuf = rt.storage(bytes, "ptq Δ·G");
  const gBufs: GPUBuffer[] = [];
  try {
    const prog = new Program();
    for (const p of preps) {
      const { G, K } = p.req, Kp = p.Kp;
      const Gp = new Float32Array(Kp * Kp);
      for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) Gp[i * Kp + j] = G[i * K + j];
      const gBuf = rt.storage(Gp.byteLength, "ptq G");
      gBufs.push(gBuf);
      rt.device.queue.writeBuffer(gBuf, 0, Gp);
      rt.device.queue.writeBuffer(dBuf, p.at, p.D);
      const spec = quadGemmSpec(Kp);
      const pipe = rt.pipeline(gemmKey(spec), () => gemmWgsl(spec));
      const size = CHUNK * Kp * 4;
      for (let o = 0; o < p.D.byteLength; o += size) {
        const at = { offset: p.at + o, size };
        prog.add(
          rt.dispatch(
            "ptq-quad",
            pipe,
            [{ buffer: dBuf, ...at }, gBuf, { buffer: tBuf, ...at }],
            gemmGrid(spec),
            gemmFlops(spec),
          ),
        );
      }
    }
    prog.submit(rt.device);
    const T = new Float32Array(await rt.read(tBuf, bytes));
    return preps.map((p) => {
      const { K, nC } = p.req, Kp = p.Kp, base = p.at / 4, D = p.D;
      const out = new Float64Array(p.R);
      for (let r = 0; r < p.R; r++) {
        const o = r * Kp, co = (r % nC) * K;
        let e = 0;
        for (let k = 0; k < K; k++) e += D[o + k] * (T[base + o + k] - 2 * p.Cp[co + k]);
        out[r] = e + p.konst[r % nC];
      }
      return out;
    });
  } finally {
    for (const b of [dBuf, tBuf, ...gBufs]) rt.free(b);
  }
}
