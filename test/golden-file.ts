// Golden files: a test compares its output with a file under test/ that is committed and reviewed.
// A missing golden fails; `UPDATE_GOLDEN=1 npx vitest run <file>` rewrites the goldens a test
// compares with, for review in the diff (a golden written silently would check nothing).

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

const testDirectory = dirname(fileURLToPath(import.meta.url));

export const UPDATING_GOLDENS = process.env.UPDATE_GOLDEN === "1";

/** compares `text` with test/<relative>; with UPDATE_GOLDEN=1 writes it instead */
export function expectGolden(relative: string, text: string): void {
  const path = join(testDirectory, relative);
  if (UPDATING_GOLDENS) {
    writeFileSync(path, text);
    return;
  }
  expect(existsSync(path), `golden ${relative} is missing: write it with UPDATE_GOLDEN=1 and review it`).toBe(
    true,
  );
  expect(text).toBe(readFileSync(path, "utf8"));
}
