// Shared by the fault-injection tests: a corrupted file must be refused as a DamagedFileError that
// names it, never accepted and never an internal error.

import { expect } from "vitest";
import { DamagedFileError } from "../format/damaged-file.js";

export /** Runs `action`; it must fail with a DamagedFileError whose path is `path` (and nothing else). */
function expectDamaged(label: string, path: string | RegExp, action: () => unknown): DamagedFileError {
  let thrown: unknown;
  try {
    action();
  } catch (err) {
    thrown = err;
  }
  if (!(thrown instanceof DamagedFileError))
    throw new Error(
      `${label}: expected a DamagedFileError, got ${thrown === undefined ? "success" : String(thrown)}\n${(thrown as Error)?.stack ?? ""}`,
    );
  if (typeof path === "string") expect(thrown.path, label).toBe(path);
  else expect(thrown.path, label).toMatch(path);
  expect(thrown.message.startsWith(`${thrown.path}: `), label).toBe(true);
  return thrown;
}
