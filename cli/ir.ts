import type { Command } from "commander";

// Placeholder until the `ir` command is written; it registers nothing.
export function register(program: Command): void {
  void program;
}
