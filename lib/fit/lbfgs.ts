/**
 * L-BFGS with a strong-Wolfe line search (Nocedal & Wright, Alg. 7.4, 3.5, 3.6). Allocation-free in the
 * inner loop because a Chinchilla grid runs it thousands of times per fit.
 * @module
 */
import type { ObjectiveFn } from "./objective.ts";

/** Stopping rules and memory. */
export interface LbfgsOptions {
  /** Correction pairs kept (default 10). */
  memory?: number;
  /** Iteration cap (default 500). */
  maxIter?: number;
  /** Stop when (f_prev − f) ≤ ftol·max(|f_prev|, |f|, 1e-300) (default 1e-10). */
  ftol?: number;
  /** Stop when ‖∇f‖∞ ≤ gtol (default 0: never on the gradient alone). */
  gtol?: number;
}

/** Where the optimizer stopped. */
export interface LbfgsResult {
  /** Final point. */
  x: Float64Array;
  /** Objective there. */
  f: number;
  /** Iterations done. */
  iterations: number;
  /** Objective evaluations (including line-search trials). */
  evaluations: number;
  /** True when a tolerance was met (false: iteration cap or failed line search). */
  converged: boolean;
}

const C1 = 1e-4, C2 = 0.9;

/** Minimises f from x0. Non-finite values are treated as +∞ (the line search backs off). */
export function lbfgs(f: ObjectiveFn, x0: ArrayLike<number>, opts: LbfgsOptions = {}): LbfgsResult {
  const m = opts.memory ?? 10, maxIter = opts.maxIter ?? 500;
  const ftol = opts.ftol ?? 1e-10, gtol = opts.gtol ?? 0;
  const n = x0.length;
  const x = Float64Array.from(x0), g = new Float64Array(n), d = new Float64Array(n);
  const xt = new Float64Array(n), gt = new Float64Array(n);
  const xlo = new Float64Array(n), glo = new Float64Array(n);
  const S = Array.from({ length: m }, () => new Float64Array(n));
  const Y = Array.from({ length: m }, () => new Float64Array(n));
  const rho = new Float64Array(m), al = new Float64Array(m);
  let evals = 1;
  let fx = f(x, g);
  if (!Number.isFinite(fx)) return { x, f: fx, iterations: 0, evaluations: evals, converged: false };
  let k = 0, stored = 0, head = 0, converged = false, iter = 0;

  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i] * b[i];
    return s;
  };
  const ninf = (a: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) s = Math.max(s, Math.abs(a[i]));
    return s;
  };
  // φ(α) at x + α·d, stored into xt/gt.
  const phi = (a: number) => {
    for (let i = 0; i < n; i++) xt[i] = x[i] + a * d[i];
    evals++;
    const v = f(xt, gt);
    return Number.isFinite(v) ? v : Infinity;
  };

  for (; iter < maxIter; iter++) {
    if (ninf(g) <= gtol) {
      converged = true;
      break;
    }
    // Two-loop recursion: d = −H·g.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let j = 0; j < stored; j++) {
      const idx = (head - 1 - j + m) % m;
      al[idx] = rho[idx] * dot(S[idx], d);
      for (let i = 0; i < n; i++) d[i] -= al[idx] * Y[idx][i];
    }
    if (stored > 0) {
      const last = (head - 1 + m) % m;
      const h0 = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let i = 0; i < n; i++) d[i] *= h0;
    }
    for (let j = stored - 1; j >= 0; j--) {
      const idx = (head - 1 - j + m) % m;
      const b = rho[idx] * dot(Y[idx], d);
      for (let i = 0; i < n; i++) d[i] += S[idx][i] * (al[idx] - b);
    }
    let dphi0 = dot(g, d);
    if (!(dphi0 < 0)) { // not a descent direction: restart from steepest descent
      for (let i = 0; i < n; i++) d[i] = -g[i];
      stored = 0;
      dphi0 = dot(g, d);
      if (!(dphi0 < 0)) {
        converged = true;
        break;
      }
    }
    const a0 = stored === 0 ? Math.min(1, 1 / Math.max(ninf(g), 1e-300)) : 1;

    // Strong-Wolfe line search; on success xt/gt/ft hold the accepted point.
    const f0 = fx;
    let aPrev = 0, fPrev = f0, dPrev = dphi0, a = a0, ok = false, ft = f0;
    let alo = 0, flo = f0, dlo = dphi0, ahi = 0, fhi = 0, dhi = 0, zoom = false;
    for (let ls = 0; ls < 40; ls++) {
      ft = phi(a);
      const dt = dot(gt, d);
      if (ft > f0 + C1 * a * dphi0 || (ls > 0 && ft >= fPrev)) {
        alo = aPrev, flo = fPrev, dlo = dPrev, ahi = a, fhi = ft, dhi = dt, zoom = true;
        break;
      }
      if (Math.abs(dt) <= -C2 * dphi0) {
        ok = true;
        break;
      }
      if (dt >= 0) {
        alo = a, flo = ft, dlo = dt, ahi = aPrev, fhi = fPrev, dhi = dPrev, zoom = true;
        xlo.set(xt), glo.set(gt);
        break;
      }
      aPrev = a, fPrev = ft, dPrev = dt;
      xlo.set(xt), glo.set(gt);
      a *= 4;
    }
    if (!ok && zoom) {
      if (alo === 0) xlo.set(x), glo.set(g);
      for (let z = 0; z < 40; z++) {
        // Cubic interpolation, safeguarded to the middle 80% of the bracket; bisection otherwise.
        const lo = Math.min(alo, ahi), hi = Math.max(alo, ahi), w = hi - lo;
        let aj = NaN;
        if (Number.isFinite(fhi)) {
          const d1 = dlo + dhi - 3 * (flo - fhi) / (alo - ahi);
          const sq = d1 * d1 - dlo * dhi;
          if (sq >= 0) {
            const d2 = Math.sign(ahi - alo) * Math.sqrt(sq);
            aj = ahi - (ahi - alo) * (dhi + d2 - d1) / (dhi - dlo + 2 * d2);
          }
        }
        if (!(aj > lo + 0.1 * w && aj < hi - 0.1 * w)) aj = 0.5 * (alo + ahi);
        ft = phi(aj);
        const dt = dot(gt, d);
        if (ft > f0 + C1 * aj * dphi0 || ft >= flo) {
          ahi = aj, fhi = ft, dhi = dt;
        } else {
          if (Math.abs(dt) <= -C2 * dphi0) {
            ok = true;
            break;
          }
          if (dt * (ahi - alo) >= 0) ahi = alo, fhi = flo, dhi = dlo;
          alo = aj, flo = ft, dlo = dt;
          xlo.set(xt), glo.set(gt);
        }
        if (Math.abs(ahi - alo) <= 1e-16 * Math.max(1, Math.abs(alo))) break;
      }
      if (!ok && alo > 0 && flo < f0) { // accept the best Armijo point found
        xt.set(xlo), gt.set(glo), ft = flo, ok = true;
      }
    }
    if (!ok) break;

    // Update the memory with s = x⁺ − x, y = g⁺ − g (skipped when the curvature is not positive).
    const slot = S[head], yslot = Y[head];
    for (let i = 0; i < n; i++) slot[i] = xt[i] - x[i], yslot[i] = gt[i] - g[i];
    const sy = dot(slot, yslot);
    if (sy > 1e-300) {
      rho[head] = 1 / sy;
      head = (head + 1) % m;
      stored = Math.min(stored + 1, m);
    }
    x.set(xt), g.set(gt);
    const fPrevIter = fx;
    fx = ft;
    k++;
    if (fPrevIter - fx <= ftol * Math.max(Math.abs(fPrevIter), Math.abs(fx), 1e-300)) {
      converged = true;
      iter++;
      break;
    }
  }
  return { x, f: fx, iterations: iter, evaluations: evals, converged };
}
