// Creating the folders archc writes into (run, sweep and report folders). Node's recursive mkdir
// never returns for some paths (`/proc/run` loops forever inside Node), so the path is created one
// component at a time, and a folder that cannot hold a run fails at once with the reason.

import { accessSync, constants, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DamagedFileError } from "./damaged-file.js";

const WHY: Record<string, string> = {
  EACCES: "cannot be created or written (permission denied)",
  EPERM: "cannot be created or written (operation not permitted)",
  EROFS: "is on a read-only file system",
  ENOTDIR: "is inside something that is not a folder",
  ENOENT: "cannot be created there",
  ENOSPC: "cannot be created: the disk is full",
  ENAMETOOLONG: "has a name that is too long",
  ELOOP: "goes through a symbolic link loop",
};

function failure(path: string, err: unknown): DamagedFileError {
  const code = String((err as { code?: unknown } | null)?.code ?? "");
  return new DamagedFileError(
    path,
    WHY[code] ?? `cannot be created (${code || String(err)})`,
    "choose another folder",
  );
}

/** Makes `path` a writable folder, creating missing parents; throws a DamagedFileError naming it otherwise. */
export function makeOutputDir(path: string): void {
  const missing: string[] = [];
  let at = resolve(path);
  for (;;) {
    try {
      const stat = statSync(at);
      if (!stat.isDirectory())
        throw new DamagedFileError(
          path,
          `${at === resolve(path) ? "is" : `is inside ${at}, which is`} not a folder`,
          "choose another folder",
        );
      break;
    } catch (err) {
      if (err instanceof DamagedFileError) throw err;
      if ((err as { code?: string }).code !== "ENOENT") throw failure(path, err);
      missing.push(at);
      const parent = dirname(at);
      if (parent === at) throw failure(path, err);
      at = parent;
    }
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw failure(path, err);
    }
  }
  try {
    accessSync(path, constants.W_OK);
  } catch (err) {
    throw failure(path, err);
  }
}

const WRITE_WHY: Record<string, string> = {
  EISDIR: "is a folder, not a file",
  ENOENT: "cannot be written: its folder does not exist",
  ENOTDIR: "cannot be written: a part of the path is a file",
};

/** Writes a file the user named; a path that cannot take it is the user's to change, said plainly. */
export function writeOutputFile(path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (err) {
    const code = String((err as { code?: unknown } | null)?.code ?? "");
    if (!code.startsWith("E")) throw err;
    throw new DamagedFileError(
      path,
      WRITE_WHY[code] ?? WHY[code] ?? `cannot be written (${code})`,
      "choose another output path",
    );
  }
}
