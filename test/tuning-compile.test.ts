// Compiling with a tuning table: the default (no table, or no entry) reproduces the WGSL archc
// generated before kernels had variants, recorded as digests of every module of the examples'
// training and evaluation programs.

import { createHash } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileTraining } from "../compiler/compile.js";
import { loadProgram } from "../compiler/frontend.js";
import type { Executable } from "../format/archx.js";

const root = join(import.meta.dirname, "..");

/** every model of an example file, as the front end builds it */
function exampleModels(file: string) {
  const result = loadProgram([join(root, "examples", file)]);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return [...result.program.models.values()];
}

function digestLines(label: string, exe: Executable): string[] {
  return exe.modules.map((code, i) => {
    const first = exe.kernels.find((k) => k.module === i)!;
    const digest = createHash("sha256").update(code).digest("hex").slice(0, 16);
    return `${label} ${first.name} ${digest}`;
  });
}

/** the examples every default kernel is recorded for: the ops of table 4's residuals and GPT-2 */
const RECORDED: { file: string; batch: number; seq: number }[] = [
  { file: "table4.arch", batch: 2, seq: 16 },
  { file: "gpt2_classic.arch", batch: 1, seq: 32 },
];

describe("the default variant of every kernel", () => {
  it("reproduces the WGSL recorded before kernels had variants", async () => {
    const lines: string[] = [];
    for (const { file, batch, seq } of RECORDED)
      for (const model of exampleModels(file)) {
        const program = compileTraining(model, { batch, seq });
        lines.push(...digestLines(`${model.name} train`, program.train));
        lines.push(...digestLines(`${model.name} eval`, program.eval));
      }
    await expect(lines.join("\n") + "\n").toMatchFileSnapshot("__snapshots__/default-kernels.txt");
  });
});
