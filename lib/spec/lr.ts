/**
 * Per-size learning rates.
 * @module
 */
import type { LrRule } from "./schema.ts";

/** Peak learning rate of a model with N non-embedding parameters under `rule`. */
export function learningRate(rule: LrRule, n: number): number {
  if (rule.rule === "constant") return rule.value;
  let lr = rule.base * Math.pow(rule.baseParams / n, rule.power);
  if (rule.max !== undefined) lr = Math.min(lr, rule.max);
  if (rule.min !== undefined) lr = Math.max(lr, rule.min);
  // 4 significant digits: keeps run ids and CSVs free of float noise.
  return Number(lr.toPrecision(4));
}
