// `archc compile FILE -o model.archx`: lower one model at a fixed batch and sequence length,
// compile it to fused WGSL kernels and write the self-contained executable.

import type { Command } from "commander";
import { reportFailure, UserError } from "./common.js";
import { graphShape, loadModel } from "./load-model.js";

interface CompileFlags {
  model?: string;
  batch?: string;
  seq?: string;
  output: string;
  fuse: boolean;
  tuning?: string;
}

export function register(program: Command): void {
  program
    .command("compile")
    .description("compile a model to WGSL kernels and a buffer plan: a .archx executable")
    .argument("<file>", ".arch file")
    .requiredOption("-o, --output <path>", "where to write the executable (.archx)")
    .option("--model <name>", "model to compile (default: the only model, or the last one)")
    .option("--batch <n>", "batch size (default 1)")
    .option("--seq <n>", "sequence length (default: the model's context)")
    .option("--no-fuse", "one kernel per op (for comparison and debugging)")
    .option(
      "--tuning <file>",
      "compile the kernel variants of this `archc tune` file, whatever adapter it was measured on (compile opens none)",
    )
    .action(async (file: string, flags: CompileFlags) => {
      try {
        const model = await loadModel(file, flags.model);
        const shape = graphShape(model, flags);
        const { lowerModel, LoweringError } = await import("../compiler/ir/lower.js");
        const { compileGraph } = await import("../compiler/compile.js");
        const { writeExecutable } = await import("../format/archx.js");
        const { formatBytes } = await import("../runtime/buffers.js");
        let graph;
        try {
          graph = lowerModel(model, shape);
        } catch (err) {
          if (err instanceof LoweringError) throw new UserError(err.message);
          throw err;
        }
        const exe = compileGraph(graph, {
          fuse: flags.fuse,
          tuning: flags.tuning === undefined ? undefined : await readTuning(flags.tuning),
          batch: shape.batch,
          seq: shape.seq,
          vocab: model.vocab,
        });
        writeExecutable(flags.output, exe);
        const pools = exe.pools.map((p) => `${p.usage} ${formatBytes(p.size)}`).join(", ");
        process.stdout.write(
          `${model.name}: batch ${shape.batch}, seq ${shape.seq}; ${exe.kernels.length} kernels per forward pass ` +
            `(${exe.fused ? "fused" : "unfused"}), ${exe.modules.length} distinct WGSL modules\n` +
            `buffers: ${pools}\nwrote ${flags.output}\n`,
        );
      } catch (err) {
        process.exitCode = reportFailure(err);
      }
    });
}

async function readTuning(file: string) {
  const { readTuningFile, tuningTable } = await import("../format/tuning.js");
  const { variantNames } = await import("../compiler/ops/registry.js");
  return tuningTable(readTuningFile(file, variantNames));
}
