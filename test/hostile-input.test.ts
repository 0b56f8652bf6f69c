// Hostile input beyond text: special files given as sources or imports, sizes the kernels cannot
// run, and runaway diagnostic lists. Each ends in a located diagnostic or a clear user error,
// promptly: nothing here may read forever.

import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatDiagnostics, loadProgram, loadSource } from "../compiler/frontend.js";
import { MAX_SOURCE_BYTES, readSourceFile, sourceFileProblem } from "../compiler/check/source-file.js";
import { shapeProblem } from "../compiler/check/limits.js";
import { MAX_PRINTED } from "../compiler/diagnostics/format.js";
import { runCli } from "./cli-support.js";
import { tinySpec } from "./golden/specs.js";

const dir = mkdtempSync(path.join(tmpdir(), "archc-hostile-"));
const fifo = path.join(dir, "pipe.arch");
execFileSync("mkfifo", [fifo]);
const big = path.join(dir, "big.arch");
writeFileSync(big, "");
truncateSync(big, MAX_SOURCE_BYTES + 1);

describe("special files", () => {
  it("are refused with the reason, before anything is opened", () => {
    expect(sourceFileProblem(fifo)).toMatch(/named pipe \(FIFO\), not a regular file/);
    expect(sourceFileProblem(dir)).toMatch(/a directory, not a regular file/);
    expect(sourceFileProblem("/dev/zero")).toMatch(/a character device, not a regular file/);
    expect(sourceFileProblem(big)).toMatch(/at most 4194304 bytes/);
    expect(() => readSourceFile(fifo)).toThrow(/named pipe/);
    expect(sourceFileProblem("examples/tiny.arch")).toBeUndefined();
  });

  it("imported, they are located A0210 diagnostics", () => {
    const result = loadSource(
      path.join(dir, "main.arch"),
      `import "pipe.arch"\nimport "big.arch"\nimport "/dev/urandom"\nimport "."\n`,
    );
    const messages = result.diagnostics.map((d) => `${d.code} ${d.span.line} ${d.message}`);
    expect(messages).toEqual([
      expect.stringMatching(/^A0210 1 .*named pipe/),
      expect.stringMatching(/^A0210 2 .*at most 4194304 bytes/),
      expect.stringMatching(/^A0210 3 .*character device/),
      expect.stringMatching(/^A0210 4 .*directory/),
    ]);
  });

  it("given on the command line, they are user errors", async () => {
    const run = (args: string[]) => runCli([import("../cli/check.js"), import("../cli/inspect.js")], args);
    // `check` refuses its arguments before loading anything: the UserError reaches the top level
    await expect(run(["check", fifo])).rejects.toThrow(/named pipe/);
    await expect(run(["check", dir])).rejects.toThrow(/directory/);
    for (const [file, reason] of [
      ["/dev/zero", /character device/],
      [fifo, /named pipe/],
      [big, /at most 4194304 bytes/],
    ] as const) {
      const result = await run(["inspect", file]);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toMatch(reason);
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    }
  });
});

describe("sizes the kernels cannot run", () => {
  it("are refused for a graph shape, naming what is too large", () => {
    expect(shapeProblem(tinySpec(), 1, 8)).toBeUndefined();
    expect(shapeProblem(tinySpec(), 1_000_000, 1)).toMatch(/batch 1000000/);
    expect(shapeProblem(tinySpec(), 60_000, 64)).toMatch(/batch × seq = 3840000 tokens/);
    expect(shapeProblem({ ...tinySpec(), vocab: 2 ** 21 }, 1024, 1024)).toMatch(/widest activation/);
  });
});

describe("long diagnostic lists", () => {
  it(`print ${MAX_PRINTED} diagnostics and count the rest`, () => {
    const text = Array.from({ length: 150 }, (_, i) => `model m${i} extends p${i} { }`).join("\n");
    const result = loadSource("many.arch", text);
    expect(result.diagnostics.length).toBe(150);
    const printed = formatDiagnostics(result);
    expect(printed.match(/error A0203/g)).toHaveLength(MAX_PRINTED);
    expect(printed.endsWith("... 50 more diagnostics not shown (50 errors, 0 warnings)")).toBe(true);
  });

  it("say where the checker stopped collecting", () => {
    const text = Array.from({ length: 400 }, (_, i) => `model m${i} extends p${i} { }`).join("\n");
    const printed = formatDiagnostics(loadSource("many.arch", text));
    expect(printed).toMatch(/\.\.\. 100 more diagnostics not shown/);
    expect(printed).toMatch(/error A0107: too many errors; stopping after 200/);
  });

  it("a root file that is a FIFO does not hang the loader", () => {
    const result = loadProgram([fifo]);
    expect(result.diagnostics.map((d) => d.code)).toEqual(["A0210"]);
  });
});
