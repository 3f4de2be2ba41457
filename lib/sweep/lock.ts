/**
 * One lock per run, so that two sweeps (the same shard started twice, overlapping --only filters) never
 * train the same run at once. The lock is an exclusive advisory file lock (flock) on
 * `<results>/<experiment>/locks/<run_id>.lock`, whose content names the owner (pid, host, start time)
 * for messages. The kernel drops the lock when its process ends in any way (kill -9 included), so a
 * lock left by a dead process is never in the way: the next sweep simply takes it.
 *
 * Release removes the file while still holding the lock; a taker checks, after locking, that the path
 * still names the file it locked (same inode), and otherwise tries again, so a removal racing a take
 * never lets two processes hold "the" lock.
 * @module
 */

/** Who holds a lock, as written in its file. */
export interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** A held run lock. */
export interface RunLock {
  /** Path of the lock file. */
  path: string;
  /** Removes the file and releases the lock (idempotent). */
  release(): void;
}

/** This machine's name when the task may read it, else "?" (the sweep task has no --allow-sys). */
function hostName(): string {
  try {
    if (Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state === "granted") {
      return Deno.hostname();
    }
  } catch { /* permission API unavailable */ }
  return "?";
}

/** Reads the owner named in a lock file (undefined when unreadable or empty). */
function readOwner(file: Deno.FsFile): LockOwner | undefined {
  try {
    const buf = new Uint8Array(512);
    file.seekSync(0, Deno.SeekMode.Start);
    const n = file.readSync(buf) ?? 0;
    return JSON.parse(new TextDecoder().decode(buf.subarray(0, n))) as LockOwner;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock at `path` without waiting: the held lock, or `{ owner }` (who holds it, when known)
 * when another process does.
 */
export function tryLockRun(path: string): RunLock | { busy: true; owner?: LockOwner } {
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (dir) Deno.mkdirSync(dir, { recursive: true });
  for (let attempt = 0; attempt < 8; attempt++) {
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    if (!file.tryLockSync(true)) {
      const owner = readOwner(file);
      file.close();
      return { busy: true, owner };
    }
    let same = false;
    try {
      same = Deno.statSync(path).ino === file.statSync().ino;
    } catch { /* removed by its previous owner's release */ }
    if (!same) {
      file.close(); // closing drops the lock
      continue;
    }
    const owner: LockOwner = { pid: Deno.pid, host: hostName(), since: new Date().toISOString() };
    file.truncateSync(0);
    file.seekSync(0, Deno.SeekMode.Start);
    file.writeSync(new TextEncoder().encode(JSON.stringify(owner) + "\n"));
    let held = true;
    return {
      path,
      release() {
        if (!held) return;
        held = false;
        try {
          Deno.removeSync(path);
        } catch { /* already gone */ }
        file.close();
      },
    };
  }
  throw new Error(`could not take the lock ${path}: it kept being replaced`);
}

/** `pid 123 on host-a since …`, or "another process" when the owner is unknown. */
export function ownerText(owner?: LockOwner): string {
  return owner ? `pid ${owner.pid} on ${owner.host} since ${owner.since}` : "another process";
}
