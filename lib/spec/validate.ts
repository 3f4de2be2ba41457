/**
 * Validation of a raw spec value: every problem, each with its path, as zod's prettified list.
 * @module
 */
import { z } from "zod";
import { type Experiment, ExperimentSchema } from "./schema.ts";
import { pathText, specError } from "./errors.ts";

type Issue = z.core.$ZodIssue;

/**
 * Replaces each failed union by the issues of the one branch whose type matched (e.g. an object
 * missing `bwd` reports "at schemes[1].bwd", not a bare "Invalid input").
 */
function flattenUnions(issues: readonly Issue[]): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    if (issue.code !== "invalid_union" || !("errors" in issue) || issue.errors.length === 0) {
      out.push(issue);
      continue;
    }
    const typed = issue.errors.filter((branch) =>
      !branch.some((i) => i.code === "invalid_type" && i.path.length === 0)
    );
    if (typed.length === 1) {
      out.push(...flattenUnions(typed[0].map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as Issue)));
    } else if (typed.length === 0) {
      const expected = issue.errors.flatMap((b) =>
        b.filter((i) => i.code === "invalid_type").map((i) => (i as { expected: string }).expected)
      );
      out.push({ ...issue, message: `Invalid input: expected ${[...new Set(expected)].join(" or ")}` });
    } else out.push(issue);
  }
  return out;
}

/** Parses a raw spec; throws InputError listing every problem with its path. */
export function parseExperiment(raw: unknown, source?: string): Experiment {
  const r = ExperimentSchema.safeParse(raw);
  if (r.success) return r.data;
  const problems = flattenUnions(r.error.issues).map((i) => ({ message: i.message, path: pathText(i.path) }));
  throw specError(problems, source);
}
