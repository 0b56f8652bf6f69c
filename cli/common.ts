// What every command shares: exit codes and the split between user errors (diagnostics, no
// stack trace) and internal errors (said to be ours, with the stack).

import { LookupError } from "../compiler/lookup-error.js";
import { DamagedFileError } from "../format/damaged-file.js";
import { DataError } from "../runtime/data/data-error.js";

export const EXIT = { ok: 0, userError: 1, usage: 2, internal: 3 } as const;

/** An error in what the user gave us (a file, a flag value, a missing device): message only. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.userError,
  ) {
    super(message);
  }
}

export function reportFailure(err: unknown): number {
  // a damaged or missing input file (the readers turn fs errors on the user's paths into these),
  // or a model or train block the file does not define
  if (err instanceof DamagedFileError || err instanceof DataError || err instanceof LookupError) {
    process.stderr.write(`archc: ${err.message}\n`);
    return EXIT.userError;
  }
  if (err instanceof UserError) {
    process.stderr.write(`archc: ${err.message}\n`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(
    `archc: internal error (a bug in archc, not in your files): ${e.message}\n${e.stack ?? ""}\n`,
  );
  return EXIT.internal;
}
