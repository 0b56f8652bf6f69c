// The list of commands, in the order `archc --help` shows them. Each module registers one
// command and imports its heavy dependencies lazily inside the action.

import type { Command } from "commander";
import * as check from "./check.js";
import * as inspect from "./inspect.js";
import * as ir from "./ir.js";
import * as devices from "./devices.js";
import * as compile from "./compile.js";
import * as run from "./run.js";
import * as evaluate from "./eval.js";
import * as train from "./train.js";
import * as generate from "./generate.js";
import * as bench from "./bench.js";
import * as tune from "./tune.js";
import * as ablate from "./ablate.js";
import * as report from "./report.js";

export function registerCommands(program: Command): void {
  for (const command of [
    check,
    inspect,
    ir,
    devices,
    compile,
    run,
    evaluate,
    train,
    ablate,
    report,
    generate,
    bench,
    tune,
  ])
    command.register(program);
}
