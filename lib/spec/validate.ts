/**
 * Validation of a raw spec value: every problem, each with its path, as zod's prettified list.
 * @module
 */
import { z } from "zod";
import { type Experiment, ExperimentSchema } from "./schema.ts";
import { pathText, type Problem, specError } from "./errors.ts";

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

/**
 * Paths of own `__proto__` keys anywhere in a raw value (JSON.parse makes them own keys; zod drops them
 * silently from records, so a `__proto__` speedup would vanish instead of being refused).
 */
function protoKeys(value: unknown, path: PropertyKey[] = [], out: Problem[] = [], depth = 0): Problem[] {
  if (depth > 64 || value === null || typeof value !== "object") return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => protoKeys(v, [...path, i], out, depth + 1));
    return out;
  }
  for (const k of Object.keys(value)) {
    if (k === "__proto__") out.push({ message: `"__proto__" is not allowed as a key`, path: pathText(path) });
    else protoKeys((value as Record<string, unknown>)[k], [...path, k], out, depth + 1);
  }
  return out;
}

/** Parses a raw spec; throws InputError listing every problem with its path. */
export function parseExperiment(raw: unknown, source?: string): Experiment {
  const proto = protoKeys(raw);
  if (proto.length) throw specError(proto, source);
  const r = ExperimentSchema.safeParse(raw);
  if (r.success) return r.data;
  // An unrecognized key is reported at its own path (`models[0].dmodel`), not at the object holding it.
  const problems = flattenUnions(r.error.issues).flatMap((i) =>
    i.code === "unrecognized_keys"
      ? i.keys.map((k) => ({ message: `unrecognized key "${k}"`, path: pathText([...i.path, k]) }))
      : [{ message: i.message, path: pathText(i.path) }]
  );
  throw specError(problems, source);
}
