// Runs archc commands in-process: a fresh commander program with the given commands registered,
// stdout and stderr captured, and process.exitCode saved before and restored after.

import { Command } from "commander";
import { vi } from "vitest";

/** A CLI module (cli/train.ts, cli/ir.ts, ...): adds its command to the program. */
export interface CliCommand {
  register(program: Command): void;
}

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * `archc ...args` with only `commands` registered. They are passed as the promises of their dynamic
 * imports, so a test file loads the CLI modules (and what they pull in) only when it runs them.
 */
export async function runCli(commands: Promise<CliCommand>[], args: string[]): Promise<CliResult> {
  const program = new Command().exitOverride();
  for (const command of await Promise.all(commands)) command.register(program);
  let stdout = "";
  let stderr = "";
  const out = vi
    .spyOn(process.stdout, "write")
    .mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi
    .spyOn(process.stderr, "write")
    .mockImplementation((chunk) => ((stderr += String(chunk)), true));
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(["node", "archc", ...args]);
    return { stdout, stderr, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = before;
    out.mockRestore();
    err.mockRestore();
  }
}
