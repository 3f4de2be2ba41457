/**
 * The environment recorded with results: Deno, V8 and TypeScript versions, OS, CPU model, adapter, git
 * commit. Reads .git directly; the CPU model comes from `lscpu` (the one subprocess, `--allow-run=lscpu`;
 * Deno refuses /proc/cpuinfo to tasks without --allow-all). llvmpipe compiles kernels for the host CPU, so
 * results are bit-identical per CPU family: the model says which family a result came from.
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
  /** CPU model as `lscpu` names it (null when lscpu is absent or not allowed). */
  cpuModel: string | null;
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

/** The CPU model from `lscpu` ("Model name"), or null when it cannot be run. */
export async function cpuModel(): Promise<string | null> {
  try {
    // Never prompt: without the permission there is no model.
    if (Deno.permissions.querySync({ name: "run", command: "lscpu" }).state !== "granted") return null;
    const out = await new Deno.Command("lscpu", { stdout: "piped", stderr: "null", env: { LC_ALL: "C" } })
      .output();
    const line = new TextDecoder().decode(out.stdout).split("\n").find((l) => l.startsWith("Model name:"));
    return line ? line.slice("Model name:".length).trim() : null;
  } catch {
    return null;
  }
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
    cpuModel: await cpuModel(),
    adapter,
    commit: await gitCommit(),
    startedAt: new Date().toISOString(),
  };
}
