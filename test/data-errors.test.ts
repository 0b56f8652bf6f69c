// Training data that cannot be used is the user's to fix: a clear message and exit 1, no stack trace
// and no hang (a FIFO would otherwise be read forever).

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./cli-support.js";

function project(data: string): { dir: string; arch: string } {
  const dir = mkdtempSync(join(tmpdir(), "archc-data-"));
  const arch = join(dir, "m.arch");
  writeFileSync(
    arch,
    `import std.transformer
model m extends gpt { context: 16 dim: 16 depth: 1 heads: 2 }
train t { model: m data: "${data}" steps: 2 seq: 16 }
`,
  );
  return { dir, arch };
}

describe("unusable training data", () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ["a missing path", () => {}, /training data ".*missing" does not exist/],
    ["a folder without text files", (dir) => mkdirSync(join(dir, "missing")), /no text files .* under/],
    [
      "text shorter than one sequence",
      (dir) => writeFileSync(join(dir, "missing"), "hi\n"),
      /fewer than one sequence of 16\+1/,
    ],
    ["a FIFO", (dir) => execFileSync("mkfifo", [join(dir, "missing")]), /is not a regular file or a folder/],
  ];
  for (const [what, make, message] of cases)
    it(`${what} is a user error`, async () => {
      const { dir, arch } = project("missing");
      make(dir);
      const result = await runCli(
        [import("../cli/train.js")],
        ["train", arch, "--cpu-bigram", "--plain", "--out", join(dir, "run")],
      );
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    });
});
