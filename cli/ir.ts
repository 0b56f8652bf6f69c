// `archc ir FILE`: lower one model and print its forward graph in the stable text form.

import type { Command } from "commander";
import { reportFailure } from "./common.js";
import { graphShape, loadModel } from "./load-model.js";

interface IrFlags {
  model?: string;
  batch?: string;
  seq?: string;
}

export function register(program: Command): void {
  program
    .command("ir")
    .description("print the tensor IR of a model's forward pass")
    .argument("<file>", ".arch file")
    .option("--model <name>", "model to lower (default: the only model, or the last one)")
    .option("--batch <n>", "batch size (default 1)")
    .option("--seq <n>", "sequence length (default: the model's context)")
    .action(async (file: string, flags: IrFlags) => {
      try {
        const model = await loadModel(file, flags.model);
        const shape = graphShape(model, flags);
        const { lowerForCli } = await import("./lower-for-cli.js");
        const { printGraph } = await import("../compiler/ir/print.js");
        process.stdout.write(printGraph(lowerForCli(model, shape), shape));
      } catch (err) {
        process.exitCode = reportFailure(err);
      }
    });
}
