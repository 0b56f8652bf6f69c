// `archc ablate FILE`: train every variant of an ablation under identical conditions, one after
// another on one device, then write the report into the sweep folder. Running it again continues an
// interrupted sweep: finished runs are kept, half-trained ones resume from their last checkpoint.

import type { Command } from "commander";
import { join, resolve } from "node:path";
import type { AblationSpec } from "../format/spec.js";
import { EXIT, reportFailure, UserError } from "./common.js";
import { integerFlag } from "./flags.js";
import {
  NO_TUNING_HELP,
  NO_TUNING_OPTION,
  TUNING_HELP,
  TUNING_OPTION,
  tuningFor,
  type TuningFlags,
} from "./tuning-flags.js";

interface AblateFlags extends TuningFlags {
  ablation?: string;
  out?: string;
  steps?: string;
  only?: string[];
  plain?: boolean;
}

const EXIT_INTERRUPTED = 130;

export function register(program: Command): void {
  program
    .command("ablate")
    .description(
      "train every variant of an ablation (over its seeds) under identical conditions and write a report; " +
        "run again to continue an interrupted sweep",
    )
    .argument("<file>", ".arch file with an ablation block")
    .option("--ablation <name>", "ablation to run (default: the file's only one)")
    .option("--out <dir>", "sweep folder (default: runs/<ablation name>)")
    .option("--steps <n>", "optimizer steps per run (overrides the train block)")
    .option("--only <label...>", "run only these variants (and the baseline); the report covers what has run")
    .option("--plain", "print log lines instead of progress bars")
    .option(TUNING_OPTION, TUNING_HELP)
    .option(NO_TUNING_OPTION, NO_TUNING_HELP)
    .action(async (file: string, flags: AblateFlags) => {
      try {
        process.exitCode = await ablateCommand(file, flags);
      } catch (err) {
        process.exitCode = reportFailure(err);
      }
    });
}

async function selectAblation(file: string, name: string | undefined) {
  const api = await import("../compiler/frontend.js");
  const result = api.loadProgram([file]);
  const text = api.formatDiagnostics(result);
  if (api.hasErrors(result)) throw new UserError(text.trimEnd());
  if (text.trim().length > 0) process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
  // the file's own ablations: an imported file's ablation is only run when named
  const ablations = new Map(
    [...result.program.ablations].filter(
      ([n, a]) => n === name || resolve(a.span?.file ?? "") === resolve(file),
    ),
  );
  let ablation: AblationSpec | undefined;
  if (name !== undefined) {
    ablation = ablations.get(name);
    if (!ablation)
      throw new UserError(
        `${file} has no ablation '${name}'${ablations.size ? ` (it has: ${[...ablations.keys()].join(", ")})` : ""}`,
      );
  } else if (ablations.size === 1) {
    ablation = [...ablations.values()][0];
  } else if (ablations.size === 0) {
    throw new UserError(`${file} declares no ablation; add 'ablation NAME of MODEL { field: [a, b] }'`);
  } else {
    throw new UserError(
      `${file} has several ablations (${[...ablations.keys()].join(", ")}); pick one with --ablation`,
    );
  }
  return { program: result.program, ablation };
}

async function ablateCommand(file: string, flags: AblateFlags): Promise<number> {
  const steps = integerFlag(flags.steps, "--steps", 1);
  const { program, ablation } = await selectAblation(file, flags.ablation);
  const { planSweep, SweepError } = await import("../ablate/plan.js");
  const { runSweep } = await import("../ablate/sweep.js");
  const { SessionError } = await import("../runtime/train/session.js");
  const { openDevice, DeviceError } = await import("../runtime/device.js");
  const dir = flags.out ?? join("runs", ablation.name);
  const log = (line: string) => process.stderr.write(line + "\n");

  const controller = new AbortController();
  const { interruptHandler } = await import("./interrupt.js");
  const onInterrupt = interruptHandler(
    () => {
      log("stopping after this step and saving a checkpoint (Ctrl-C again to quit without saving)");
      controller.abort();
    },
    () => process.exit(EXIT_INTERRUPTED),
  );
  let gpu: Awaited<ReturnType<typeof openDevice>> | undefined;
  process.on("SIGINT", onInterrupt);
  try {
    const plan = planSweep(program, ablation, { steps, only: flags.only });
    gpu = await openDevice();
    const tuning = await tuningFor(gpu.adapter.info, flags);
    const outcome = await runSweep(plan, {
      tuning,
      file,
      dir,
      plain: flags.plain,
      signal: controller.signal,
      gpu,
      log,
    });
    if (outcome.outcome === "interrupted") {
      log(`sweep interrupted; run the same command again to continue (${dir})`);
      return EXIT_INTERRUPTED;
    }
    // the runs are saved: from here a Ctrl-C only stops the report, which archc report rebuilds
    process.off("SIGINT", onInterrupt);
    const written = await writeSweepReport(dir, log);
    log(
      `sweep ${ablation.name} done: ${outcome.ran} run(s) trained, ${outcome.skipped} already done` +
        (outcome.diverged.length ? `, diverged: ${outcome.diverged.join("; ")}` : "") +
        (outcome.failed.length ? `, could not train: ${outcome.failed.join("; ")}` : "") +
        ` · report ${join(dir, written[0])}`,
    );
    return EXIT.ok;
  } catch (err) {
    if (err instanceof SweepError || err instanceof SessionError || err instanceof DeviceError)
      throw new UserError(err.message);
    throw err;
  } finally {
    process.off("SIGINT", onInterrupt);
    gpu?.device.destroy();
  }
}

/** builds and writes the report of a sweep folder; shared with `archc report` */
export async function writeSweepReport(dir: string, log: (line: string) => void): Promise<string[]> {
  const { buildReport } = await import("../ablate/report/build.js");
  const { writeReport } = await import("../ablate/report/write.js");
  log(`writing the report and its figures`);
  return writeReport(await buildReport(dir), dir);
}
