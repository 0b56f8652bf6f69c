import { describe, expect, it } from "vitest";
import { UserError } from "../cli/common.js";
import { graphShape, positiveInteger } from "../cli/load-model.js";
import { lowerForCli } from "../cli/lower-for-cli.js";
import { runCli } from "./cli-support.js";
import { attnResidual, tinySpec } from "./golden/specs.js";

describe("CLI shape flags", () => {
  it("defaults to batch 1 and the model's context", () => {
    expect(graphShape(tinySpec({ context: 12 }), {})).toEqual({ batch: 1, seq: 12 });
    expect(graphShape(tinySpec(), { batch: "4", seq: "8" })).toEqual({ batch: 4, seq: 8 });
  });
  it("rejects non-positive, fractional and oversized values as user errors", () => {
    for (const bad of ["0", "-1", "2.5", "x", ""])
      expect(() => positiveInteger(bad, "--batch")).toThrow(UserError);
    expect(() => graphShape(tinySpec({ context: 16 }), { seq: "17" })).toThrow(
      /exceeds model tiny's context 16/,
    );
  });
  it("turns a lowering rejection into a user error", () => {
    const spec = tinySpec({
      layers: 2,
      residual: attnResidual({ blocks: 3 }),
    });
    expect(() => lowerForCli(spec, { batch: 1, seq: 4 })).toThrow(UserError);
  });
});

describe("archc ir / inspect commands on the examples", () => {
  const run = (args: string[]) => runCli([import("../cli/ir.js"), import("../cli/inspect.js")], args);

  it("ir prints the graph of the chosen shape", async () => {
    const r = await run(["ir", "examples/tiny_block.arch", "--batch", "2", "--seq", "4"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("graph tiny_block (batch=2, seq=4)");
    expect(r.stdout).toMatch(/^output loss = %\d+$/m);
  });

  it("inspect --json reports Block AttnRes sources that follow the block rule", async () => {
    const r = await run(["inspect", "examples/tiny_block.arch", "--json", "--seq", "16"]);
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.seq).toBe(16);
    expect(report.parameters.total).toBe(
      Object.values(report.parameters.byGroup as Record<string, number>).reduce((a, b) => a + b, 0),
    );
    expect(report.attnres.perSublayer.map((s: { sources: number }) => s.sources)).toEqual([
      1, 2, 2, 2, 2, 3, 3, 3,
    ]);
  });

  it("user errors go to stderr with exit code 1 (2 for a bad flag value) and no stack trace", async () => {
    for (const [args, code] of [
      [["ir", "examples/tiny.arch", "--model", "nope"], 1],
      [["inspect", "examples/does-not-exist.arch"], 1],
      [["inspect", "examples/tiny.arch", "--seq", "0"], 2],
      [["inspect", "examples/tiny.arch", "--seq", "65"], 2],
    ] as const) {
      const r = await run([...args]);
      expect(r.exitCode).toBe(code);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^archc: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
