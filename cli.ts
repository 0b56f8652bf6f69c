// The `archc` command line. Each command lives in cli/<name>.ts and registers itself; heavy
// modules (Dawn, the tokenizer, the corpus) are imported inside the actions, so that
// `archc check` starts fast.

import { Command, CommanderError } from "commander";
import { registerCommands } from "./cli/commands.js";
import { reportFailure, EXIT } from "./cli/common.js";

const program = new Command();
program
  .name("archc")
  .description(
    "A compiler for neural-network architectures: .arch files to fused WGSL kernels, run through Dawn.",
  )
  .version("0.1.0")
  .showHelpAfterError()
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; everything commander rejects is bad usage
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.exitCode = reportFailure(err);
  }
}
