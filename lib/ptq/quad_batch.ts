/**
 * Batched quadratic-form errors, the GEMM-shaped core of the PTQ searches, as requests a search yields and a
 * driver answers. A search is a generator that yields {@link QuadRequest}s and receives their errors; the
 * float64 CPU evaluator ({@link evalQuadCpu}, incremental, the reference) answers synchronously, a GPU
 * evaluator (kernels/ptq/quad.ts) asynchronously — the same search code runs under both drivers.
 * @module
 */
import { IncQuad } from "./linalg.ts";

/**
 * Errors e_r = q_rᵀ·G·q_r − 2·c_{r mod nC}ᵀ·q_r for rows q_r of Q [nB·nC, K] (row b·nC + c: candidate b of
 * target c). G must be symmetric.
 */
export interface QuadRequest {
  /** Symmetric K×K matrix. */
  G: Float64Array;
  /** Width. */
  K: number;
  /** Linear terms [nC, K]. */
  C: Float64Array;
  /** Reference point of each target [nC, K] (the float row the candidates approximate); lets an evaluator
   * work on the small differences q − ref for precision. Does not change the errors. */
  ref: Float64Array;
  /** Targets. */
  nC: number;
  /** Candidates [nB·nC, K]. */
  Q: Float64Array;
  /** Candidates per target. */
  nB: number;
}

/**
 * A search: yields independent requests together (one evaluator round trip), receives each request's errors
 * [nB·nC] in the same order, returns T.
 */
export type QuadSearch<T> = Generator<QuadRequest[], T, Float64Array[]>;

/**
 * The float64 reference: per target one {@link IncQuad} moved through its candidates in order b = 0..nB−1
 * (exactly the arithmetic of the original per-candidate loops, so CPU results stay bit-identical).
 */
export function evalQuadCpu(req: QuadRequest): Float64Array {
  const { G, K, C, nC, Q, nB } = req;
  const out = new Float64Array(nB * nC);
  for (let c = 0; c < nC; c++) {
    const inc = new IncQuad(G, C.subarray(c * K, c * K + K), K);
    for (let b = 0; b < nB; b++) out[b * nC + c] = inc.update(Q, (b * nC + c) * K);
  }
  return out;
}

/** Runs a search to the end with the float64 CPU reference (requests evaluated in order). */
export function runSearch<T>(s: QuadSearch<T>): T {
  let it = s.next();
  while (!it.done) it = s.next(it.value.map(evalQuadCpu));
  return it.value;
}

/** Runs a search to the end with an asynchronous evaluator (the GPU). */
export async function runSearchAsync<T>(
  s: QuadSearch<T>,
  evaluate: (r: QuadRequest[]) => Promise<Float64Array[]>,
): Promise<T> {
  let it = s.next();
  while (!it.done) it = s.next(await evaluate(it.value));
  return it.value;
}
