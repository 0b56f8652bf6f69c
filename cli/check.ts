// `archc check FILE...`: parse and check each file on its own, print every diagnostic, and a
// one-line summary for each file that has no errors.

import type { Command } from "commander";
import { existsSync } from "node:fs";
import { EXIT, UserError } from "./common.js";

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

async function checkFiles(files: string[]): Promise<number> {
  const { sourceFileProblem } = await import("../compiler/check/source-file.js");
  for (const file of files) {
    if (!existsSync(file)) throw new UserError(`no such file: ${file}`, EXIT.usage);
    const problem = sourceFileProblem(file);
    if (problem) throw new UserError(`cannot check ${file}: ${problem}`, EXIT.usage);
  }
  // imported here, not at the top, so that `archc --help` does not load the parser
  const { loadProgram, formatDiagnostics, hasErrors } = await import("../compiler/frontend.js");
  let failed = false;
  for (const file of files) {
    const result = loadProgram([file]);
    if (result.diagnostics.length > 0) process.stderr.write(formatDiagnostics(result) + "\n");
    if (hasErrors(result)) {
      failed = true;
      continue;
    }
    const own = <T extends { span?: { file: string } }>(specs: Map<string, T>) =>
      [...specs.values()].filter((s) => s.span?.file === file).length;
    const { models, trains, ablations } = result.program;
    process.stdout.write(
      `${file}: ok (${plural(own(models), "model")}, ${plural(own(trains), "train")}, ${plural(own(ablations), "ablation")})\n`,
    );
  }
  return failed ? EXIT.userError : EXIT.ok;
}

export function register(program: Command): void {
  program
    .command("check")
    .description(
      "parse and check .arch files; print every diagnostic with its location (exit 0 ok, 1 errors, 2 bad usage)",
    )
    .argument("<files...>", ".arch files to check, each on its own (with the files it imports)")
    .action(async (files: string[]) => {
      process.exitCode = await checkFiles(files);
    });
}
