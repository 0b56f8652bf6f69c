// Command-line misuse that needs no device: every case is a user error (exit 1) or bad usage
// (exit 2) with a message naming what is wrong, never an internal error or a stack trace.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./cli-support.js";

const commands = () => [
  import("../cli/compile.js"),
  import("../cli/inspect.js"),
  import("../cli/ablate.js"),
  import("../cli/report.js"),
];

describe("command-line misuse", () => {
  const scratch = mkdtempSync(join(tmpdir(), "archc-misuse-"));
  const cases: [string[], number, RegExp][] = [
    [["compile", "examples/tiny.arch", "-o", "/proc/x.archx"], 1, /\/proc\/x\.archx: cannot be written/],
    [["compile", "examples/tiny.arch", "-o", scratch], 1, /is a folder, not a file/],
    [["compile", "examples/tiny.arch", "-o", join(scratch, "no", "x.archx")], 1, /its folder does not exist/],
    [["compile", "examples/tiny.arch", "--batch", "0", "-o", join(scratch, "x.archx")], 2, /--batch must be/],
    [["inspect", "examples/tiny.arch", "--seq", "x"], 2, /--seq must be/],
    [["ablate", "examples/tiny_block.arch"], 1, /declares no ablation/],
    [["ablate", "examples/residuals.arch", "--only", "nope"], 1, /--only nope: .* has no such variant/],
    [["ablate", "examples/residuals.arch", "--steps", "x"], 2, /--steps must be an integer/],
    [["ablate", "examples/residuals.arch", "--ablation", "nope"], 1, /has no ablation 'nope'/],
    [["report", scratch], 1, /is not a sweep folder: it has no sweep\.json/],
    [["report", join(scratch, "missing")], 1, /is not a sweep folder/],
  ];
  for (const [args, code, message] of cases)
    it(`archc ${args.join(" ")}`, async () => {
      const result = await runCli(commands(), args);
      expect(result.stderr).toMatch(message);
      expect(result.exitCode).toBe(code);
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    });
});
