/**
 * WGSL of the scheme operand quantizers: one fused `prep(v, g, seed)` per (operand, group length) that
 * does clip + transform + scale + round (+ mask / DGE multiplier) of one group in one pass, for the
 * engine's prepare kernel (kernels/engine/ops.ts), and the gradient post-pass `post` kernel (multiplier
 * and inverse rotation applied to dX / dW). Built from the lib/formats WGSL generator (WgslLib); the TS
 * twin is lib/schemes/reference.ts (same operations in the same order).
 * @module
 */
import { wgslF32 } from "../../lib/formats/f32.ts";
import { UNROLL_MAX, wgslFor, WgslLib, wgslStatsLoop, wgslStatsUnrolled } from "../formats/wgsl.ts";
import {
  formatSpec,
  hadamardSize,
  occIndices,
  postGroup,
  scaleLen,
  SIGN_SALT,
} from "../../lib/schemes/reference.ts";
import type { OperandQuant } from "../../lib/schemes/types.ts";
import { kernelHead, type PackedRuns, stepRecord } from "../engine/ops.ts";

const MAXF = "3.4028234663852886e38";

/**
 * WGSL defining `fn prep(v: ptr<function, array<f32, G>>, g: ptr<function, array<f32, G>>, seed: u32)`
 * for operand `op` on groups of G values. Per-step Hadamard signs read the engine's step uniform `u.seed`
 * (XOR `SIGN_SALT[gemm]`), so both operands of one backward GEMM share the rotation.
 */
export function prepWgsl(op: OperandQuant, G: number, gemm: "dx" | "dw" = "dx", emit = false): string {
  if (emit && !packable(op)) {
    throw new Error("prepWgsl: packed output needs an E2M1 operand (see packable)");
  }
  const lib = new WgslLib();
  lib.common();
  lib.rng();
  const body: string[] = [];
  const comp = !!op.clip?.compensate;
  // OCC's insertion sorts and QuEST-INT index their arrays dynamically anyway: keep those as loops
  const unroll = G <= UNROLL_MAX && !op.clip && !op.centred;
  if (comp) body.push(`  var res: array<f32, ${G}>;`);
  if (op.clip) {
    const { iLo, iHi } = occIndices(op.clip.quantile, G);
    const KH = G - iHi, KL = iLo + 1;
    body.push(`  var top: array<f32, ${KH}>;
  var bot: array<f32, ${KL}>;
  for (var i = 0u; i < ${KH}u; i++) { top[i] = -${MAXF}; }
  for (var i = 0u; i < ${KL}u; i++) { bot[i] = ${MAXF}; }
  for (var j = 0u; j < ${G}u; j++) {
    let x = (*v)[j];
    if (x > top[${KH - 1}u]) {
      var p = ${KH - 1}u;
      while (p > 0u && top[p - 1u] < x) { top[p] = top[p - 1u]; p--; }
      top[p] = x;
    }
    if (x < bot[${KL - 1}u]) {
      var p = ${KL - 1}u;
      while (p > 0u && bot[p - 1u] > x) { bot[p] = bot[p - 1u]; p--; }
      bot[p] = x;
    }
  }
  let hi = top[${KH - 1}u];
  let lo = bot[${KL - 1}u];
  for (var j = 0u; j < ${G}u; j++) {
    let c = min(max((*v)[j], lo), hi);
    ${comp ? "res[j] = (*v)[j] - c;" : ""}
    (*v)[j] = c;
  }`);
  }
  const hs = hadamardSize(op, G);
  if (hs) {
    lib.hadamard(hs, "sch_had", undefined, G);
    if (op.hadamard!.signs === "per-step") {
      body.push(`  {
    let sseed = u.seed ^ ${SIGN_SALT[gemm] >>> 0}u;
    ${wgslFor("j", "0u", G, `(*v)[j] = (*v)[j] * fp4_rng_sign(sseed, j % ${hs}u);`, unroll)}
  }`);
    }
    body.push(`  sch_had_fwd(v);`);
  }
  const S = scaleLen(op, G);
  const sr = op.rounding === "stochastic";
  const uExpr = sr ? "fp4_rng_uniform(seed, j)" : "-1.0";
  if (op.centred) {
    const { bits, alpha } = op.centred;
    const trust = Math.fround(alpha / (2 ** bits - 1));
    body.push(`  for (var b = 0u; b < ${G}u; b = b + ${S}u) {
${wgslStatsLoop(`${S}u`, `(*v)[b + j]`)}
    let rms = sqrt(sumsq * ${wgslF32(Math.fround(1 / S))});
    let a = ${wgslF32(Math.fround(alpha))} * rms;
    let step = (2.0 * a) / ${wgslF32(2 ** bits - 1)};
    for (var j = b; j < b + ${S}u; j++) {
      let xc = min(max((*v)[j], -a), a);
      var q = 0.0;
      if (step != 0.0) { q = (fp4_round(xc / step + 0.5, -1.0) - 0.5) * step; }
      ${
      op.estimator === "trust"
        ? `(*g)[j] = select(0.0, 1.0, fp4_abs(q - (*v)[j]) <= ${wgslF32(trust)} * rms);`
        : ""
    }
      (*v)[j] = q;
    }
  }`);
  } else {
    const spec = formatSpec(op);
    const { scale, round } = lib.scaleAndRound(spec, "sch", S);
    const pre = op.prescale ? wgslF32(Math.fround(op.prescale)) : "";
    const post = op.prescale ? wgslF32(Math.fround(1 / op.prescale)) : "";
    const statsLoop = unroll
      ? wgslStatsUnrolled(S, (k) => `(*v)[b + ${k}u]`)
      : wgslStatsLoop(`${S}u`, `(*v)[b + j]`);
    const stats = op.scale.granularity === "none"
      ? "    let sc = Fp4Scale(1.0, 0x3f800000u);"
      : `${statsLoop}    let sc = ${scale}(amax, sum, sumsq, 1.0);`;
    let est = "";
    if (op.estimator === "trust") est = `(*g)[j] = select(0.0, 1.0, r.keep);`;
    else if (op.estimator === "dge") {
      const { k, clamp } = op.dge!;
      est = `var ys = 0.0;
      if (sc.scale != 0.0) { ys = y / sc.scale; }
      (*g)[j] = sch_dge(ys);`;
      lib.add(
        "sch_dge",
        `fn sch_dge(y: f32) -> f32 {
  let ay = fp4_abs(y);
  let d = select(select(2.0, 1.0, ay < 4.0), 0.5, ay < 2.0);
  let left = floor(y / d) * d;
  let t = y - left;
  let r = fp4_abs((2.0 * t) / d - 1.0);
  if (r == 0.0) { return ${wgslF32(clamp)}; }
  return min(${wgslF32(Math.fround(1 / k))} * pow(r, ${wgslF32(Math.fround(1 / k - 1))}), ${wgslF32(clamp)});
}
`,
      );
    }
    if (emit) body.push(`  for (var i = 0u; i < ${G / 8}u; i++) { (*words)[i] = 0u; }`);
    const emitScale = emit
      ? `\n    for (var t = b; t < b + ${S}u; t = t + 32u) { (*scales)[t / 32u] = sc.scale * ${
        wgslF32(Math.fround((op.prescale ? 1 / op.prescale : 1) * 2 ** 14))
      }; }`
      : "";
    const perValue = `      let y = ${pre ? `(*v)[j] * ${pre}` : "(*v)[j]"};
      let r = ${round}(y, sc, ${uExpr});
      ${est}${
      emit
        ? `
      (*words)[j / 8u] = (*words)[j / 8u] | (encode_e2m1(r.q) << (4u * (j % 8u)));`
        : ""
    }
      (*v)[j] = ${post ? `r.deq * ${post}` : "r.deq"}${comp ? " + res[j]" : ""};`;
    body.push(
      `  ${
        wgslFor("b", "0u", G, `${stats}${emitScale}\n${wgslFor("j", "b", S, perValue, unroll)}`, unroll, S)
      }`,
    );
  }
  return `${lib.source()}
fn prep(v: ptr<function, array<f32, ${G}>>, g: ptr<function, array<f32, ${G}>>, seed: u32${
    emit ? `, words: ptr<function, array<u32, ${G / 8}>>, scales: ptr<function, array<f32, ${G / 32}>>` : ""
  }) {
${body.join("\n")}
}
`;
}

/**
 * Whether an operand can feed the packed FP4 GEMM: E2M1 elements with an E8M0 or f32 scale per 32 values or
 * per row (written once per 32-block), no OCC residual, no INT grid.
 */
export function packable(op: OperandQuant | undefined): boolean {
  if (!op || op.element !== "e2m1" || op.clip || op.centred || op.scale.type === "e4m3") return false;
  return op.scale.granularity === "row" || (op.scale.granularity === "block" && op.scale.block === 32);
}

/** WGSL `prep()` of the gradient post-pass on groups of `postGroup(op, len)`: v ← H⁻¹(v ⊙ g). */
export function postPrepWgsl(op: OperandQuant, len: number): string {
  const P = postGroup(op, len);
  const lib = new WgslLib();
  const hs = hadamardSize(op, P);
  if (hs) lib.hadamard(hs, "sch_post", undefined, P);
  return `${lib.source()}
fn prep(v: ptr<function, array<f32, ${P}>>, g: ptr<function, array<f32, ${P}>>, seed: u32) {
  ${wgslFor("j", "0u", P, "(*v)[j] = (*v)[j] * (*g)[j];", P <= UNROLL_MAX)}
  ${hs ? "sch_post_inv(v);" : ""}
}
`;
}

/**
 * In-place post-pass kernel over a row-major [R, C] gradient, groups of `group` along each row:
 * bindings 0 D (read_write), 1 step uniform, 2 multiplier (when `mult`). One invocation per group.
 * K runs (`runs`): run r's gradient at float `r·runs.stride`, its multiplier at `r·R·C`, its own step record
 * (binding 1 holds K).
 */
export function postKernel(
  R: number,
  C: number,
  group: number,
  prep: string,
  mult: boolean,
  runs?: PackedRuns,
): string {
  const groups = (R * C) / group, p = runs && runs.runs > 1 ? runs : undefined;
  const unroll = group <= UNROLL_MAX, gb = p ? "gb" : "base";
  return `struct U { lr: f32, stepSize: f32, sqrtBc2: f32, seed: u32 };
@group(0) @binding(0) var<storage, read_write> D: array<f32>;
${stepRecord(1, !!p)}
${mult ? "@group(0) @binding(2) var<storage, read> GM: array<f32>;" : ""}
${p ? "var<private> u: U;\n" : ""}${prep}
${kernelHead("gi")}
  if (gi >= ${(p?.runs ?? 1) * groups}u) { return; }
${
    p
      ? `  let r = gi / ${groups}u;
  u = US[r];
  let gl = gi % ${groups}u;
  let base = r * ${p.stride}u + gl * ${group}u;
  let gb = r * ${R * C}u + gl * ${group}u;`
      : `  let base = gi * ${group}u;`
  }
  var v: array<f32, ${group}>;
  var g: array<f32, ${group}>;
  ${wgslFor("j", "0u", group, `v[j] = D[base + j]; g[j] = ${mult ? `GM[${gb} + j]` : "1.0"};`, unroll)}
  prep(&v, &g, u.seed);${p ? "" : " // reads the uniform so the auto layout keeps binding 1"}
  ${wgslFor("j", "0u", group, "D[base + j] = v[j];", unroll)}
}`;
}
