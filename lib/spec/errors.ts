/**
 * The one error type for bad input: the CLI prints `task: message` and exits 2 before any work.
 * @module
 */

/** One problem of a spec: a one-line message and the path of the field it is about (`models[1].dModel`). */
export interface Problem {
  message: string;
  path: string;
}

/** Bad input (spec, flags, results directory); `message` is ready to print as is. */
export class InputError extends Error {
  /** Process exit code the CLI uses for it. */
  readonly exitCode = 2;
  /**
   * @param message one line; for a spec with several problems, a header line and one entry per problem
   * @param problems the spec problems it lists (empty for flag errors)
   */
  constructor(message: string, readonly problems: Problem[] = []) {
    super(message);
    this.name = "InputError";
  }
}

/**
 * The InputError of a spec's problems: one line `invalid experiment spec SRC: MESSAGE → at PATH` for one
 * problem, else a header line and a `✖ MESSAGE\n  → at PATH` entry per problem.
 */
export function specError(problems: Problem[], source?: string): InputError {
  const head = `invalid experiment spec${source ? ` ${source}` : ""}`;
  const one = (p: Problem) => `${p.message}${p.path ? ` → at ${p.path}` : ""}`;
  if (problems.length === 1) return new InputError(`${head}: ${one(problems[0])}`, problems);
  const list = problems.map((p) => `✖ ${p.message}${p.path ? `\n  → at ${p.path}` : ""}`);
  return new InputError(`${head}: ${problems.length} problems:\n${list.join("\n")}`, problems);
}

/** `models[1].dModel` from a zod-style path. */
export function pathText(path: readonly PropertyKey[]): string {
  let out = "";
  for (const k of path) {
    if (typeof k === "number") out += `[${k}]`;
    else if (typeof k === "string" && /^[A-Za-z_$][\w$]*$/.test(k)) out += out ? `.${k}` : k;
    else out += `[${JSON.stringify(String(k))}]`;
  }
  return out;
}

/** `task: message` with a `task: ` the message already starts with (possibly repeated) removed. */
export function taskMessage(task: string, message: string): string {
  let m = message.trim();
  const prefix = `${task}: `;
  while (m.startsWith(prefix)) m = m.slice(prefix.length);
  return `${task}: ${m}`;
}
