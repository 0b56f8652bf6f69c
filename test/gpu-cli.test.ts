// archc compile then archc run, in process: the executable round-trips through a file and runs
// with the runtime alone, printing a loss near ln(vocab) for random weights.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadExecutable } from "../format/archx.js";
import { runCli } from "./cli-support.js";

const dir = mkdtempSync(join(tmpdir(), "archc-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const archc = (args: string[]) => runCli([import("../cli/compile.js"), import("../cli/run.js")], args);

describe("archc compile -> archc run", () => {
  it("writes a versioned executable and runs it to a loss near ln(vocab)", async () => {
    const path = join(dir, "tiny_block.archx");
    const compiled = await archc([
      "compile",
      "examples/tiny_block.arch",
      "--batch",
      "2",
      "--seq",
      "16",
      "-o",
      path,
    ]);
    expect(compiled.stderr).toBe("");
    expect(compiled.exitCode).toBe(0);
    expect(compiled.stdout).toMatch(/kernels per forward pass/);
    const exe = loadExecutable(path);
    expect(exe.format).toBe("archx");
    expect(exe.version).toBe(4);
    expect(exe.kernels.length).toBeGreaterThan(0);

    const ran = await archc([
      "run",
      path,
      "--prompt",
      "the cat sat on the mat and looked at the dog. ".repeat(3),
      "--seed",
      "3",
    ]);
    expect(ran.stderr).toBe("");
    expect(ran.exitCode).toBe(0);
    console.log(ran.stdout);
    const loss = Number(/loss ([\d.]+)/.exec(ran.stdout)?.[1]);
    expect(Math.abs(loss - Math.log(exe.vocab ?? 256))).toBeLessThan(0.3);
    expect(ran.stdout).toMatch(/kernels per forward pass: \d+/);
    expect(ran.stdout).not.toMatch(/null/i);
  });

  it("run rejects a file that is not an executable, as a user error", async () => {
    const result = await archc(["run", "examples/tiny.arch"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/not valid JSON|not an archx/);
  });

  it("the run command and the runtime it uses import nothing from the compiler's passes or code generation", () => {
    for (const file of [
      "cli/run.ts",
      "format/archx.ts",
      "runtime/executor.ts",
      "runtime/buffers.ts",
      "runtime/device.ts",
      "runtime/init.ts",
    ]) {
      const source = readFileSync(file, "utf8");
      expect(source, file).not.toMatch(/from "\.\.\/compiler\/(codegen|passes|compile|frontend|ir\/lower)/);
    }
  });
});
