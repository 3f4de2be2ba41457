/**
 * Atomic file writes: write a temp file next to the target, then rename over it, so a reader or a
 * killed process never sees a half-written file.
 * @module
 */

/** Writes `text` to `path` atomically (creating parent directories). */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash) : ".";
  const base = path.slice(slash + 1);
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${dir}/.${base}.${Deno.pid}-${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Writes JSON (2-space indent, trailing newline) atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeTextAtomic(path, JSON.stringify(value, null, 2) + "\n");
}
