import type { Command } from "commander";

// Placeholder until the `run` command is written; it registers nothing.
export function register(program: Command): void {
  void program;
}
