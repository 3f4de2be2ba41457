/**
 * Quartet (Castro et al. 2025, on Busbridge et al.'s base form): L = (A/(N·effN)^α + B/(D·effD)^β)^γ + E,
 * θ = [ln A, α, ln B, β, ln E, γ, ln effN, ln effD]. Fitted in two stages: base constants on the baseline
 * runs, then with those frozen effN per forward label on forward-only runs, effD per backward label on
 * backward-only runs and (effN, effD) per label pair on runs quantized both ways.
 * @module
 */
import { FitInputError } from "../errors.ts";
import { defineForm } from "../law.ts";
import { grid } from "../multistart.ts";
import type { FitResult, FitTask, FormStages, LawForm, Run, SchemeQuery, WarningOptions } from "../types.ts";
import { baseParams, baseTheta, efficiencyWarnings, lossLawWarnings } from "./common.ts";

/** The Quartet notebooks' grid over [a, α, b, β, e, γ] (486 starts). */
export function quartetGrid(): number[][] {
  return grid([0, 5, 10], [0, 0.5, 1], [0, 5, 10], [0, 0.5, 1], [0, 0.5], [0, 0.5, 1]);
}

/** Quartet efficiencies of a scheme: 1 for baseline sides, the joint fit when present, else the separate ones. */
export function efficiencies(fit: FitResult, q: SchemeQuery): { effN: number; effD: number } {
  const fwd = q.fwd ?? fit.baseline, bwd = q.bwd ?? fit.baseline;
  const pair = `${fwd}:${bwd}`;
  const joint = !q.separate && fwd !== fit.baseline && bwd !== fit.baseline && pair in fit.effN;
  const effN = q.effN ?? (fwd === fit.baseline ? 1 : joint ? fit.effN[pair] : fit.effN[fwd] ?? NaN);
  const effD = q.effD ?? (bwd === fit.baseline ? 1 : joint ? fit.effD[pair] : fit.effD[bwd] ?? NaN);
  return { effN, effD };
}

const ln05 = Math.log(0.5);

/** Stage 2: effN, effD and joint (effN, effD) per label with the base constants frozen. */
const stages: FormStages = {
  tasks(runs: Run[], baseline: string) {
    const idx = (pred: (r: Run) => boolean) => runs.flatMap((r, i) => (pred(r) ? [i] : []));
    const labels = (pick: (r: Run) => string, pred: (r: Run) => boolean) =>
      [...new Set(runs.filter(pred).map(pick))].sort();
    const fwdOnly = (r: Run) => r.fwd !== baseline && r.bwd === baseline;
    const bwdOnly = (r: Run) => r.fwd === baseline && r.bwd !== baseline;
    const both = (r: Run) => r.fwd !== baseline && r.bwd !== baseline;
    const out: Omit<FitTask, "free">[] = [];
    for (const l of labels((r) => r.fwd, fwdOnly)) {
      out.push({ kind: "effN", label: l, group: "forward", runs: idx((r) => fwdOnly(r) && r.fwd === l) });
    }
    for (const l of labels((r) => r.bwd, bwdOnly)) {
      out.push({ kind: "effD", label: l, group: "backward", runs: idx((r) => bwdOnly(r) && r.bwd === l) });
    }
    for (const l of labels((r) => `${r.fwd}:${r.bwd}`, both)) {
      const ri = idx((r) => both(r) && `${r.fwd}:${r.bwd}` === l);
      if (ri.length < 2) {
        throw new FitInputError(
          `the quartet form has 2 parameters but only ${ri.length} runs of ${l} (effN and effD jointly) to fit them`,
        );
      }
      out.push({ kind: "joint", label: l, group: "joint", runs: ri });
    }
    return out;
  },
  free: (t) => (t.kind === "effN" ? [6] : t.kind === "effD" ? [7] : [6, 7]),
  starts(t, warm) {
    if (warm) {
      const wN = warm.effN[t.label] ?? 0.5, wD = warm.effD[t.label] ?? 0.5;
      return [
        t.kind === "effN"
          ? [Math.log(wN)]
          : t.kind === "effD"
          ? [Math.log(wD)]
          : [Math.log(wN), Math.log(wD)],
      ];
    }
    return t.kind === "joint" ? [[ln05, ln05], [ln05, 0], [0, ln05], [0, 0]] : [[ln05], [0]];
  },
  collect(t, theta, eff) {
    if (t.kind !== "effD") eff.effN[t.label] = Math.exp(theta[6]);
    if (t.kind !== "effN") eff.effD[t.label] = Math.exp(theta[7]);
  },
};

/** Stage runs per efficiency parameter. */
function stageWarnings(fit: FitResult, o: WarningOptions): string[] {
  const ppp = o.pointsPerParam ?? 2, out: string[] = [];
  for (const key of Object.keys(fit.objectives)) {
    if (key === "base") continue;
    const [kind, ...rest] = key.split(":");
    const label = rest.join(":");
    const n = fit.predictions.filter((q) =>
      kind === "effN"
        ? q.group === "forward" && q.fwd === label
        : kind === "effD"
        ? q.group === "backward" && q.bwd === label
        : q.group === "joint" && `${q.fwd}:${q.bwd}` === label
    ).length;
    const k = kind === "joint" ? 2 : 1;
    if (n < ppp * k) {
      out.push(`ill-determined: ${n} runs of ${label} for ${k} efficiency parameter(s)`);
    }
  }
  return out;
}

/** The Quartet form. */
export const quartet: LawForm = defineForm({
  name: "quartet",
  summary: "L = (A/(N·effN)^α + B/(D·effD)^β)^γ + E",
  defaultDelta: 1e-4,
  reads: { labels: "required", bits: false },
  baseRuns: "baseline",
  scaleParams: ["A", "B"],
  regions: true,
  names: ["a", "alpha", "b", "beta", "e", "gamma", "lnEffN", "lnEffD"],
  exponents: ["alpha", "beta", "gamma"],
  base: () => ["a", "alpha", "b", "beta", "e", "gamma"],
  starts: quartetGrid,
  gradient: true,
  lnPredict(t, d, i, g) {
    const x = d.lnN[i] + t[6], y = d.lnD[i] + t[7];
    const alpha = t[1], beta = t[3], gamma = t[5];
    const v1 = t[0] - alpha * x, v2 = t[2] - beta * y;
    const mv = Math.max(v1, v2);
    const p1 = Math.exp(v1 - mv), p2 = Math.exp(v2 - mv);
    const lnS = mv + Math.log(p1 + p2);
    const tt = gamma * lnS, e = t[4];
    const m = Math.max(tt, e);
    const q0 = Math.exp(e - m), q1 = Math.exp(tt - m);
    const q = q0 + q1;
    if (g) {
      const we = q0 / q, wt = q1 / q;
      const s1 = p1 / (p1 + p2), s2 = p2 / (p1 + p2);
      const c1 = wt * gamma * s1, c2 = wt * gamma * s2;
      g[0] = c1;
      g[1] = -c1 * x;
      g[2] = c2;
      g[3] = -c2 * y;
      g[4] = we;
      g[5] = wt * lnS;
      g[6] = -c1 * alpha;
      g[7] = -c2 * beta;
    }
    return m + Math.log(q);
  },
  params: (t) => ({ ...baseParams(t), gamma: t[5] }),
  theta: (p) => [...baseTheta(p), p.gamma, 0, 0],
  scheme(fit, q) {
    const { effN, effD } = efficiencies(fit, q);
    const theta = Float64Array.from(fit.theta);
    theta[6] = Math.log(effN), theta[7] = Math.log(effD);
    return { theta, bits: [], label: -1 };
  },
  stages,
  warnings: (fit, o) => [...lossLawWarnings(fit), ...efficiencyWarnings(fit, o), ...stageWarnings(fit, o)],
});
