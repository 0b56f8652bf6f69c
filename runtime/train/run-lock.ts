// One trainer per run directory: two processes saving checkpoints and appending metrics in the
// same place would interleave two different runs. The lock is a file holding the owner's pid;
// a lock whose process is gone (a crash, a kill -9) is taken over.

import { openSync, closeSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { makeOutputDir } from "../output-dir.js";

export const LOCK_FILE = ".lock";

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as { code?: string }).code === "EPERM";
  }
}

export class RunLockedError extends Error {}

/** Takes the run directory's lock; returns the function that releases it. */
export function lockRun(runDir: string): () => void {
  makeOutputDir(runDir);
  const path = join(runDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
      const owner = Number.parseInt(readFileSync(path, "utf8"), 10);
      if (Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) {
        throw new RunLockedError(
          `${runDir} is in use by another archc train (pid ${owner}); wait for it, or remove ${path} if that is wrong`,
        );
      }
      rmSync(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new RunLockedError(`could not take the lock ${path}`);
}
