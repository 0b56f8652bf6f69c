// --tuning FILE and --no-tuning, for the commands that compile for the device they open. Which
// table they compile with is chosen in one place, compiler/tuning/lookup.ts.

export interface TuningFlags {
  /** a file or folder; false for --no-tuning */
  tuning?: string | false;
}

export const TUNING_OPTION = "--tuning <file>";
export const TUNING_HELP =
  "kernel variants measured by `archc tune` (a file or folder; default: $ARCHC_TUNING, then the package's tuning/)";
export const NO_TUNING_OPTION = "--no-tuning";
export const NO_TUNING_HELP = "compile every kernel's default variant, whatever tuning files there are";

/** the tuning table for the adapter `info` names; says on stderr which file it came from */
export async function tuningFor(info: GPUAdapterInfo, flags: TuningFlags) {
  const { chooseTuning } = await import("../compiler/tuning/lookup.js");
  return chooseTuning(info, { flag: flags.tuning }, (line) => process.stderr.write(`${line}\n`));
}
