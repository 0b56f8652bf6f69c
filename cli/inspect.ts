// `archc inspect FILE`: parameter counts, FLOPs, activation memory and AttnRes sources of a model.

import type { Command } from "commander";
import { reportFailure, UserError } from "./common.js";
import { graphShape, loadModel } from "./load-model.js";

interface InspectFlags {
  model?: string;
  batch?: string;
  seq?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("inspect")
    .description("report parameters, FLOPs per token, activation memory and AttnRes sources of a model")
    .argument("<file>", ".arch file")
    .option("--model <name>", "model to inspect (default: the only model, or the last one)")
    .option("--batch <n>", "batch size for activation memory (default 1)")
    .option("--seq <n>", "sequence length (default: the model's context)")
    .option("--json", "print JSON instead of a table")
    .action(async (file: string, flags: InspectFlags) => {
      try {
        const model = await loadModel(file, flags.model);
        const shape = graphShape(model, flags);
        const { inspectModel } = await import("../compiler/analysis/inspect.js");
        const { LoweringError } = await import("../compiler/ir/lower.js");
        let report;
        try {
          report = inspectModel(model, shape);
        } catch (err) {
          if (err instanceof LoweringError) throw new UserError(err.message);
          throw err;
        }
        if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
        else process.stdout.write((await import("../compiler/analysis/format.js")).formatInspect(report));
      } catch (err) {
        process.exitCode = reportFailure(err);
      }
    });
}
