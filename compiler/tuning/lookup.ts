// Which tuning table a command compiles with, on the adapter it opened. The candidates, in order:
// the file (or folder) of --tuning, else the paths of ARCHC_TUNING (separated like PATH), and then
// the files shipped in the package's tuning/ folder; the first file measured on this very adapter
// (vendor, architecture, device and description all equal) wins. No match: no table, so every
// kernel gets its template's default. A file that cannot be read, or is damaged, stops the command
// (a DamagedFileError naming it): a table silently ignored would be a slowdown nobody sees.
// `archc train`, `eval`, `bench`, `ablate` and `generate` all choose their table here.

import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { AdapterIdentity, TuningTable } from "../../format/tuning.js";
import { describeIdentity, readTuningFile, sameAdapter, tuningTable } from "../../format/tuning.js";
import { fsFailure } from "../../format/damaged-file.js";
import { stdlibDirectory } from "../check/loader.js";
import { variantNames } from "../ops/registry.js";

export const TUNING_ENV = "ARCHC_TUNING";

export interface TuningLookup {
  /** the table to compile with; undefined: every kernel's default */
  table?: TuningTable;
  /** the file it came from */
  file?: string;
  /** what the user may want to know: a file given for another adapter */
  notes: string[];
}

export interface LookupOptions {
  /** --tuning FILE; false for --no-tuning (no table at all) */
  flag?: string | false;
  /** the environment to read ARCHC_TUNING from (tests pass their own) */
  env?: NodeJS.ProcessEnv;
  /** the folder of shipped files; default: tuning/ at the package root */
  shipped?: string;
}

/** tuning/ beside stdlib/, at the package root */
export function shippedTuningDirectory(): string {
  return path.join(path.dirname(stdlibDirectory()), "tuning");
}

/** a path's tuning files: the file itself, or a folder's *.json files in name order */
function filesAt(where: string, missingIsEmpty: boolean): string[] {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(where).isDirectory();
  } catch (err) {
    if (missingIsEmpty && (err as { code?: string }).code === "ENOENT") return [];
    throw fsFailure(where, err);
  }
  if (!isDirectory) return [where];
  return readdirSync(where)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => path.join(where, name));
}

export function findTuning(adapter: AdapterIdentity, options: LookupOptions = {}): TuningLookup {
  if (options.flag === false) return { notes: [] };
  const env = options.env ?? process.env;
  const fromEnv = (env[TUNING_ENV] ?? "").split(path.delimiter).filter((p) => p !== "");
  const given = options.flag !== undefined ? [options.flag] : fromEnv;
  const notes: string[] = [];
  const userFiles = given.flatMap((where) => filesAt(where, false));
  const shippedFiles = filesAt(options.shipped ?? shippedTuningDirectory(), true);
  for (const file of [...userFiles, ...shippedFiles]) {
    const tuning = readTuningFile(file, variantNames);
    if (sameAdapter(tuning.adapter, adapter)) return { table: tuningTable(tuning), file, notes };
    if (userFiles.includes(file))
      notes.push(
        `${file} was measured on ${describeIdentity(tuning.adapter)}, not on this adapter (${describeIdentity(adapter)}); not used`,
      );
  }
  return { notes };
}

/** findTuning, saying on `log` which file it chose and why a file the user gave was not used */
export function chooseTuning(
  adapter: AdapterIdentity,
  options: LookupOptions,
  log: (line: string) => void,
): TuningTable | undefined {
  const found = findTuning(adapter, options);
  for (const note of found.notes) log(`tuning: ${note}`);
  if (found.file) log(`tuning: kernel variants from ${found.file}`);
  return found.table;
}
