// `archc report DIR`: rebuild a sweep's report from its folder alone (sweep.json, each run's
// metrics.jsonl and final checkpoint), without retraining. The same numbers come out every time.

import type { Command } from "commander";
import { join } from "node:path";
import { reportFailure, UserError } from "./common.js";

export function register(program: Command): void {
  program
    .command("report")
    .description(
      "rebuild an ablation report (report.md, .json, .csv, figures) from a sweep folder, without training",
    )
    .argument("<dir>", "sweep folder written by archc ablate")
    .action(async (dir: string) => {
      try {
        const { SweepError } = await import("../ablate/plan.js");
        const { writeSweepReport } = await import("./ablate.js");
        const log = (line: string) => process.stderr.write(line + "\n");
        try {
          const written = await writeSweepReport(dir, log);
          process.stdout.write(written.map((f) => join(dir, f)).join("\n") + "\n");
        } catch (err) {
          if (err instanceof SweepError) throw new UserError(err.message);
          throw err;
        }
      } catch (err) {
        process.exitCode = reportFailure(err);
      }
    });
}
