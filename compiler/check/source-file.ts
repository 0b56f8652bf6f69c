// Reading a source file without trusting it: only regular files are read (a FIFO or /dev/zero
// would be read forever), and at most MAX_SOURCE_BYTES of them. Kept free of the parser so that
// the CLI can vet its arguments cheaply.

import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";

/** 4 MiB: a hundred times the largest honest model file, and still parsed in about a second. */
export const MAX_SOURCE_BYTES = 4 * 1024 * 1024;

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a named pipe (FIFO)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

function statsProblem(stats: Stats): string | undefined {
  if (!stats.isFile()) return `it is ${kindOf(stats)}, not a regular file`;
  if (stats.size > MAX_SOURCE_BYTES)
    return `it is ${stats.size} bytes; a source file may be at most ${MAX_SOURCE_BYTES} bytes (4 MiB)`;
  return undefined;
}

/** Why `file` would be refused as source, or undefined when it can be read. Errors from stat propagate. */
export function sourceFileProblem(file: string): string | undefined {
  return statsProblem(statSync(file));
}

export class RefusedFileError extends Error {}

/** The text of `file`; throws RefusedFileError saying why for anything but a small regular file. */
export function readSourceFile(file: string): string {
  // stat before opening: opening a FIFO blocks until a writer comes
  const problem = sourceFileProblem(file);
  if (problem) throw new RefusedFileError(problem);
  const fd = openSync(file, "r");
  try {
    // the file may have been replaced since: check what was opened, and read no more than allowed
    const again = statsProblem(fstatSync(fd));
    if (again) throw new RefusedFileError(again);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(1 << 20, MAX_SOURCE_BYTES + 1 - total));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      total += read;
      if (total > MAX_SOURCE_BYTES)
        throw new RefusedFileError(
          `it holds more than ${MAX_SOURCE_BYTES} bytes; a source file may be at most 4 MiB`,
        );
    }
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
