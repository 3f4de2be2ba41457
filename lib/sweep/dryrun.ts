/**
 * `sweep SPEC --dry-run`: every run with N, tokens, FLOPs, an estimated time from the measured probe,
 * whether it is already done, totals, and warnings (duplicates, repeated training data).
 * @module
 */
import { type Expansion, gridProblem, gridSize, type PlannedRun } from "./expand.ts";
import type { Experiment } from "../spec/schema.ts";
import { formatDuration, formatSi, textTable } from "./format.ts";
import { throughputKey } from "./probe.ts";
import { sharedTokens, tokensToTrain } from "./sharing.ts";
import { packPlan, packSummary } from "./packing.ts";
import { DEFAULT_PACK } from "../engine/packable.ts";

/** Inputs of the dry-run report. */
export interface DryRunInput {
  expansion: Expansion;
  /** The runs this invocation owns (shard, --only). */
  owned: PlannedRun[];
  /** Status of runs that have a record ("finished", "diverged", "failed"). */
  status: Map<string, string>;
  /** Measured tokens/s per throughput key (missing: no estimate). */
  throughput: Map<string, number>;
  /** Training tokens in the data source, when known (for the repetition warning). */
  dataTokens?: number;
  /** Data source name, for messages. */
  data: string;
  /** Most runs per pack (`--pack`; default 8, 1: none). */
  pack?: number;
}

/** Estimated seconds of a run from the probe (NaN when not probed). */
export function estimateSeconds(run: PlannedRun, throughput: Map<string, number>): number {
  const tps = throughput.get(throughputKey(run.config));
  return tps ? run.trainTokens / tps : NaN;
}

/** Most rows the dry-run table lists; longer plans show the first ones and a count (totals cover all). */
export const MAX_TABLE_ROWS = 1000;

/** Most notes and warnings of one kind the report lists. */
const MAX_NOTES = 20;

/** The report text. */
export function dryRunReport(inp: DryRunInput): string {
  const shown = inp.owned.slice(0, MAX_TABLE_ROWS);
  const rows = shown.map((r, i) => {
    const est = estimateSeconds(r, inp.throughput);
    return [
      String(i + 1),
      r.id,
      r.scheme,
      r.model,
      formatSi(r.nonEmbeddingParams),
      formatSi(r.trainTokens),
      (r.trainTokens / r.nonEmbeddingParams).toFixed(1),
      formatSi(r.flops),
      formatDuration(est),
      inp.status.get(r.id) ?? "pending",
    ];
  });
  const table = textTable(
    ["#", "run_id", "scheme", "model", "N", "tokens", "D/N", "FLOPs", "est.time", "state"],
    rows,
    [true, false, false, false, true, true, true, true, true, false],
  );
  const pending = inp.owned.filter((r) => {
    const s = inp.status.get(r.id);
    return s !== "finished" && s !== "diverged";
  });
  const sum = (rs: PlannedRun[], f: (r: PlannedRun) => number) => rs.reduce((s, r) => s + f(r), 0);
  // Under prefix sharing a branched run trains only its decay (./sharing.ts).
  const own = tokensToTrain(pending);
  const estPending = sum(
    pending,
    (r) => estimateSeconds(r, inp.throughput) * (own.get(r.id)! / r.trainTokens),
  );
  const hidden = inp.owned.length - shown.length;
  const lines = [
    table,
    ...(hidden > 0 ? [`… and ${hidden} more runs (list a subset with --only or --shard)`] : []),
    "",
    `total: ${inp.owned.length} runs (${pending.length} pending), ` +
    `${formatSi(sum(inp.owned, (r) => r.trainTokens))} tokens, ${
      formatSi(sum(inp.owned, (r) => r.flops))
    } FLOPs; ` +
    `estimated time of the pending runs ${formatDuration(estPending)}` +
    (Number.isNaN(estPending) ? " (no throughput probe)" : " (training steps, from the probe)"),
  ];
  const share = sharedTokens(inp.owned);
  if (share.shared < share.alone) {
    lines.push(
      `prefix sharing (WSD): ${formatSi(share.shared)} tokens trained instead of ${formatSi(share.alone)} ` +
        `(${(share.alone / share.shared).toFixed(2)}× fewer): runs that differ only in budget branch from ` +
        `their group's longest run where their decay begins`,
    );
  }
  const capped = <T>(items: T[], line: (t: T) => string, what: string) => {
    for (const t of items.slice(0, MAX_NOTES)) lines.push(line(t));
    if (items.length > MAX_NOTES) lines.push(`… and ${items.length - MAX_NOTES} more ${what}`);
  };
  // Packed runs (./packing.ts): which pending runs train together in one program.
  const cap = inp.pack ?? DEFAULT_PACK, plan = packPlan(pending, cap);
  const packed = packSummary(plan, pending.length, cap);
  if (packed) {
    lines.push(packed);
    const packs = plan.filter((p) => p.length > 1);
    capped(packs, (p) => `  pack of ${p.length}: ${p.map((r) => r.id).join(", ")}`, "packs");
  }
  capped(
    inp.expansion.duplicates,
    (d) => `note: ${d.scheme} × ${d.model} repeats run ${d.id} (same resolved config), listed once`,
    "repeated grid points",
  );
  const dataTokens = inp.dataTokens;
  if (dataTokens !== undefined) {
    const over = inp.owned.filter((r) => r.trainTokens > dataTokens);
    capped(
      over,
      (r) =>
        `warning: ${r.id} would repeat the training data ${(r.trainTokens / dataTokens).toFixed(1)}× ` +
        `(${formatSi(r.trainTokens)} tokens; "${inp.data}" has ${formatSi(dataTokens)} training tokens)`,
      "runs that would repeat the training data",
    );
  }
  return lines.join("\n");
}

/** The dry run of a grid too large to expand: its axes, its size and why the sweep would refuse it. */
export function gridReport(spec: Experiment): string {
  const g = gridSize(spec);
  const tokens = [
    ...(spec.tokens.perParam ?? []).map((p) => `${p}/param`),
    ...(spec.tokens.absolute ?? []).map((t) => formatSi(t)),
  ];
  const few = (
    xs: unknown[],
  ) => (xs.length > 8 ? `${xs.slice(0, 8).join(", ")}, … (${xs.length})` : xs.join(", "));
  return [
    `${spec.name}: ${g.runs.toLocaleString("en")} runs before include/exclude (not listed)`,
    `  schemes (${g.schemes}): ${
      few(spec.schemes.map((s) => (typeof s === "string" ? s : s.name ?? `${s.fwd}+${s.bwd}`)))
    }`,
    `  models (${g.models}): ${
      few(spec.models.map((m) =>
        m.name ?? (m.params !== undefined ? `N≈${formatSi(m.params)}` : `L${m.layers}-d${m.dModel}`)
      ))
    }`,
    `  token budgets (${g.budgets}): ${few(tokens)}`,
    `  seeds (${g.seeds}): ${few(spec.seeds)}`,
    `refused: ${gridProblem(spec)?.message ?? ""}`,
  ].join("\n");
}
