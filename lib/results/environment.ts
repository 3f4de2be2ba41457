/**
 * The environment recorded with results: Deno, V8 and TypeScript versions, OS, adapter, git commit.
 * Reads .git directly (no subprocess, so the sweep needs no --allow-run).
 * @module
 */

/** One writer's environment. */
export interface Environment {
  /** Deno version. */
  deno: string;
  /** V8 version. */
  v8: string;
  /** TypeScript version. */
  typescript: string;
  /** Operating system. */
  os: string;
  /** CPU architecture. */
  arch: string;
  /** Logical CPUs. */
  cpus: number;
  /** WebGPU adapter. */
  adapter: string;
  /** Git commit of the code. */
  commit: string;
  /** ISO time the writer started. */
  startedAt: string;
}

const projectRoot = new URL("../../", import.meta.url).pathname;

async function tryRead(path: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch {
    return undefined;
  }
}

/** The checked-out commit (40 hex), or "unknown" outside a git checkout. */
export async function gitCommit(root = projectRoot): Promise<string> {
  let gitDir = `${root.replace(/\/$/, "")}/.git`;
  const file = await tryRead(gitDir); // a worktree: ".git" is a file "gitdir: <path>"
  if (file?.startsWith("gitdir:")) {
    gitDir = file.slice(7).trim();
    if (!gitDir.startsWith("/")) gitDir = `${root}/${gitDir}`;
  }
  const head = await tryRead(`${gitDir}/HEAD`);
  if (!head) return "unknown";
  if (!head.startsWith("ref:")) return head;
  const ref = head.slice(4).trim();
  const commonDir = (await tryRead(`${gitDir}/commondir`)) ?? ".";
  const dirs = [gitDir, commonDir.startsWith("/") ? commonDir : `${gitDir}/${commonDir}`];
  for (const d of dirs) {
    const loose = await tryRead(`${d}/${ref}`);
    if (loose) return loose;
    const packed = await tryRead(`${d}/packed-refs`);
    const line = packed?.split("\n").find((l) => l.endsWith(` ${ref}`));
    if (line) return line.split(" ")[0];
  }
  return "unknown";
}

/** The current environment, with the adapter description the engine reported. */
export async function currentEnvironment(adapter: string): Promise<Environment> {
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    os: Deno.build.os,
    arch: Deno.build.arch,
    cpus: navigator.hardwareConcurrency,
    adapter,
    commit: await gitCommit(),
    startedAt: new Date().toISOString(),
  };
}
