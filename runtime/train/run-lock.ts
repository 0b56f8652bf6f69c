// One trainer per run directory: two processes saving checkpoints and appending metrics in the
// same place would interleave two different runs. The lock is a file holding the owner's pid;
// a lock whose process is gone (a crash, a kill -9) is taken over.

import { openSync, closeSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { makeOutputDir } from "../../format/output-dir.js";

export const LOCK_FILE = ".lock";

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as { code?: string }).code === "EPERM";
  }
  return !isZombie(pid);
}

/**
 * Whether pid has exited but was never reaped. An archc whose launcher was killed is reparented to
 * PID 1, and in a container PID 1 often reaps nothing: it would hold its lock forever.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (command) state ...": the command may contain spaces and parentheses
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false; // no /proc (macOS): the kill(0) above decides
  }
}

/**
 * How long a live owner is given to exit before the lock is refused. A trainer whose launcher was
 * killed dies a few milliseconds after it (cli/lifeline.ts), and may not be gone yet when a rerun
 * started at once comes for its lock.
 */
const OWNER_EXIT_GRACE_MS = 1000;

function exitsWithin(pid: number, ms: number): boolean {
  const deadline = performance.now() + ms;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (processAlive(pid)) {
    if (performance.now() >= deadline) return false;
    Atomics.wait(sleeper, 0, 0, 5);
  }
  return true;
}

export class RunLockedError extends Error {}

/** Takes the run directory's lock; returns the function that releases it. */
function readOwner(path: string): number | undefined {
  try {
    return Number.parseInt(readFileSync(path, "utf8"), 10);
  } catch {
    return undefined; // removed meanwhile
  }
}

export function lockRun(runDir: string): () => void {
  makeOutputDir(runDir);
  const path = join(runDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
      const owner = Number.parseInt(readFileSync(path, "utf8"), 10);
      if (Number.isInteger(owner) && owner !== process.pid && !exitsWithin(owner, OWNER_EXIT_GRACE_MS)) {
        throw new RunLockedError(
          `${runDir} is in use by another archc train (pid ${owner}); wait for it, or remove ${path} if that is wrong`,
        );
      }
      // stale: its owner is gone. Remove it only if it still names that owner: another process that
      // waited for the same owner may have taken the lock since (its own file must not be removed)
      const current = readOwner(path);
      if (current === owner || (!Number.isInteger(owner) && !Number.isInteger(current)))
        rmSync(path, { force: true });
    }
  }
  throw new RunLockedError(`could not take the lock ${path}`);
}
