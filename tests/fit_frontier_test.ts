import assert from "node:assert/strict";
import {
  bopsModel,
  customModel,
  interpolate,
  loadProfile,
  profileModel,
  trainingSpeedup,
} from "../lib/fit/cost.ts";
import { lawFromParams } from "../lib/fit/fit.ts";
import {
  chinchillaOptimum,
  lossComputeCurves,
  numericOptimum,
  paretoFrontier,
  regionCandidates,
  regionMap,
} from "../lib/fit/frontier.ts";

const near = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a / b - 1) <= tol, `${what}: ${a} vs ${b}`);

Deno.test("Chinchilla closed-form optimum N* = G·(C/6)^(β/(α+β)) matches the numeric one", () => {
  const p = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };
  const law = lawFromParams("chinchilla", p);
  for (const C of [1e18, 1e21, 1e24]) {
    for (const sp of [1, 2]) {
      const cost = customModel("const", () => sp, () => sp);
      const closed = chinchillaOptimum(p, C, sp);
      const num = numericOptimum(law, { name: "x", fwd: "a", bwd: "b" }, C, cost);
      near(num.N, closed.N, 1e-6, `N* at C=${C}`);
      near(num.D, closed.D, 1e-6, `D* at C=${C}`);
      near(closed.N * closed.D * 6, C * sp, 1e-12, "budget");
      assert.ok(num.loss >= closed.loss - 1e-12);
    }
  }
});

Deno.test("bit-operations model reproduces Quartet's speedup table (FP8 baseline)", () => {
  const m = bopsModel("bf16");
  const sp = (fwd: string, bwd: string) =>
    m.speedups({ fwd, bwd, fwdBits: fwd === "bf16" ? 16 : 4, bwdBits: bwd === "bf16" ? 16 : 4 }, 1e8);
  assert.deepEqual(sp("bf16", "bf16"), { fwd: 1, bwd: 1, train: 1 });
  near(sp("fp4", "bf16").train, 1.2, 1e-12, "FP4:FP8");
  near(sp("bf16", "fp4").train, 1.5, 1e-12, "FP8:FP4");
  near(sp("fp4", "fp4").train, 2, 1e-12, "FP4:FP4");
  near(trainingSpeedup(2, 1), 1.2, 1e-12, "harmonic");
  // Bits guessed from the label when the column is absent.
  near(m.speedups({ fwd: "mxfp4", bwd: "bf16" }, 1e8).fwd, 2, 0, "label digits");
});

Deno.test("hardware profiles interpolate linearly in N and clamp at the ends", async () => {
  assert.equal(interpolate([[1e8, 1], [3e8, 2]], 2e8), 1.5);
  assert.equal(interpolate([[1e8, 1], [3e8, 2]], 1e6), 1);
  const m = profileModel({ name: "rtx", fwd: { quest: [[1e8, 0.86], [2e8, 1.11]] }, bwd: { sr: 1.5 } });
  const s = m.speedups({ fwd: "quest", bwd: "sr" }, 1.5e8);
  near(s.fwd, 0.985, 1e-12, "fwd");
  near(s.train, trainingSpeedup(0.985, 1.5), 1e-12, "train");
  const rtx = profileModel(
    await loadProfile(new URL("../lib/fit/profiles/rtx5090-quartet-nb2.json", import.meta.url).pathname),
  );
  near(rtx.speedups({ fwd: "quest", bwd: "rtn-bwd" }, 1.03e8).fwd, 0.86, 1e-12, "shipped profile");
});

Deno.test("region map reproduces the spec's sanity points (Table 6, effN .65, effD .95, BOPS)", () => {
  const law = lawFromParams("quartet", {
    A: 1.52e5,
    alpha: 0.589,
    B: 5.25e5,
    beta: 0.544,
    E: 1.35,
    gamma: 0.274,
  }, {
    effN: { fp4: 0.65 },
    effD: { fp4: 0.95 },
    baseline: "fp8",
  });
  const cands = regionCandidates(law);
  assert.deepEqual(cands.map((c) => c.name), ["fp8:fp8", "fp4:fp8", "fp8:fp4", "fp4:fp4"]);
  const expect: [number, number, string][] = [
    [1e8, 25, "fp8:fp4"],
    [1e8, 100, "fp4:fp4"],
    [1e8, 1000, "fp4:fp4"],
    [1e9, 25, "fp8:fp4"],
    [1e9, 100, "fp8:fp4"],
    [1e9, 1000, "fp4:fp4"],
    [1e10, 25, "fp8:fp4"],
    [1e10, 100, "fp8:fp4"],
    [1e10, 1000, "fp4:fp4"],
  ];
  const cost = bopsModel("fp8");
  for (const [n, r, best] of expect) {
    const [cell] = regionMap(law, cost, { nMax: [n, n], ratio: [r, r], steps: 1, candidates: cands });
    assert.equal(cell.best, best, `N_max=${n}, D/N=${r}`);
  }
  assert.equal(regionMap(law, cost, { steps: 5 }).length, 25);
});

Deno.test("loss-vs-compute curves decrease with compute; Pareto frontier keeps the lower envelope", () => {
  const law = lawFromParams("quartet", {
    A: 1.52e5,
    alpha: 0.589,
    B: 5.25e5,
    beta: 0.544,
    E: 1.35,
    gamma: 0.274,
  }, {
    effN: { fp4: 0.65 },
    effD: { fp4: 0.95 },
  });
  const curves = lossComputeCurves(law, bopsModel(), [1e15, 1e20], [
    { name: "bf16:bf16", fwd: "bf16", bwd: "bf16" },
    { name: "fp4:fp4", fwd: "fp4", bwd: "fp4", fwdBits: 4, bwdBits: 4 },
  ], 10);
  assert.equal(curves.length, 20);
  for (const s of ["bf16:bf16", "fp4:fp4"]) {
    const l = curves.filter((c) => c.scheme === s).map((c) => c.loss);
    assert.ok(l.every((v, k) => k === 0 || v < l[k - 1]), s);
  }
  const pts = [{ compute: 1, loss: 5 }, { compute: 2, loss: 6 }, { compute: 3, loss: 4 }, {
    compute: 4,
    loss: 4.5,
  }];
  assert.deepEqual(paretoFrontier(pts).map((p) => p.compute), [1, 3]);
});

Deno.test("region candidates include jointly fitted pairs when no backward-only fit exists", () => {
  const law = lawFromParams("quartet", {
    A: 1.52e5,
    alpha: 0.589,
    B: 5.25e5,
    beta: 0.544,
    E: 1.35,
    gamma: 0.274,
  }, {
    effN: { quest: 0.65, "quest:rtn-bwd": 0.64 },
    effD: { "quest:rtn-bwd": 0.93 },
  });
  const c = regionCandidates(law);
  assert.deepEqual(c.map((x) => [x.name, x.joint ?? false]), [
    ["bf16:bf16", false],
    ["quest:bf16", false],
    ["quest:rtn-bwd", true],
  ]);
  // A law without runs has no bits columns: give the FP4 sides their bits for the BOPS model.
  for (const x of c) x.fwdBits = x.fwd === "quest" ? 4 : 16, x.bwdBits = x.bwd === "rtn-bwd" ? 4 : 16;
  const cells = regionMap(law, bopsModel("bf16"), { steps: 4, candidates: c });
  assert.ok(cells.some((x) => x.best === "quest:rtn-bwd"));
});
