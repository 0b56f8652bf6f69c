// How `archc` starts. Dawn writes warnings no user can act on straight to fd 2 while it discovers
// adapters, and Node cannot redirect its own fd 2, so the commands that open a GPU device run in a
// child process whose stderr passes through this one and its filter (cli/stderr-filter.ts). Every
// other command runs here, in one process, so that `archc check` starts fast.

import { stderrReachesLauncherTerminal } from "../runtime/terminal.js";
import { StderrNoiseFilter } from "./stderr-filter.js";

/** The commands that open a GPU adapter: the only ones that pay for a second process. */
const DEVICE_COMMANDS = new Set(["devices", "run", "eval", "train", "ablate", "bench", "tune", "generate"]);

/** set by the launcher in its child's environment, so that the child does not launch again */
const CHILD_MARKER = "ARCHC_LAUNCHED_CHILD";
/** set in the child's environment when the launcher's stderr is a terminal: its width, or "" */
const TERMINAL_COLUMNS = "ARCHC_LAUNCHER_TERMINAL_COLUMNS";
/** the user's escape hatch: run every command in one process, stderr unfiltered */
const RAW_STDERR = "ARCHC_RAW_STDERR";

const FORWARDED_SIGNALS = ["SIGTERM", "SIGHUP"] as const;

/** Runs the command in process.argv; `script` is the URL of the executable that called this. */
export async function launch(script: string): Promise<void> {
  const args = process.argv.slice(2);
  if (process.env[CHILD_MARKER] !== undefined) {
    await becomeLaunchedChild();
  } else if (opensDevice(args) && !rawStderrWanted()) {
    process.exitCode = await runFilteredChild(script, args);
    return;
  }
  await import("../cli.js");
}

function opensDevice(args: string[]): boolean {
  // the command is the first word that is not an option: archc has no option taking a value before it
  const command = args.find((arg) => !arg.startsWith("-"));
  return command !== undefined && DEVICE_COMMANDS.has(command);
}

function rawStderrWanted(): boolean {
  const value = process.env[RAW_STDERR];
  return value !== undefined && value !== "" && value !== "0";
}

async function becomeLaunchedChild(): Promise<void> {
  const columns = process.env[TERMINAL_COLUMNS];
  // whatever this process starts is not the launcher's child
  delete process.env[CHILD_MARKER];
  delete process.env[TERMINAL_COLUMNS];
  if (columns !== undefined) stderrReachesLauncherTerminal(Number(columns) || undefined);
  const { Worker } = await import("node:worker_threads");
  const lifeline = new Worker(new URL("./lifeline.js", import.meta.url));
  // only when started by hand, without the launcher's fd 3: then it runs on, unwatched
  lifeline.on("error", () => {});
  lifeline.unref();
}

/** Runs archc again as a child with its stderr filtered; resolves to the exit code to use. */
async function runFilteredChild(script: string, args: string[]): Promise<number> {
  const { spawn } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const { constants } = await import("node:os");
  const env: NodeJS.ProcessEnv = { ...process.env, [CHILD_MARKER]: "1" };
  if (process.stderr.isTTY) env[TERMINAL_COLUMNS] = String(process.stderr.columns ?? "");
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(script), ...args], {
    // fd 3: the lifeline (cli/lifeline.ts), which closes in the child when this process dies
    stdio: ["inherit", "inherit", "pipe", "pipe"],
    env,
  });

  // An interrupt is always forwarded: one sent to this process alone (by a supervising program)
  // must reach the command. A Ctrl-C at a terminal reaches the child twice, from the terminal and
  // from here, milliseconds apart; the commands count those as one (cli/interrupt.ts).
  const interrupt = (): void => {
    child.kill("SIGINT");
  };
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on("SIGINT", interrupt);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  const stopHandlingSignals = (): void => {
    process.off("SIGINT", interrupt);
    for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
  };

  const filter = new StderrNoiseFilter();
  const write = (text: string): void => {
    if (text.length > 0) process.stderr.write(Buffer.from(text, "latin1"));
  };
  child.stderr!.on("data", (chunk: Buffer) => write(filter.push(chunk.toString("latin1"))));
  child.stderr!.on("end", () => write(filter.end()));
  // nothing comes through the lifeline; reading it lets its end, at the child's exit, be seen
  (child.stdio[3] as NodeJS.ReadableStream).resume();

  const ended = await new Promise<
    { code: number | null; signal: NodeJS.Signals | null } | { failure: Error }
  >((resolve) => {
    child.once("error", (failure) => resolve({ failure }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  stopHandlingSignals();
  if ("failure" in ended) {
    process.stderr.write(`archc: could not start the command's process: ${ended.failure.message}\n`);
    return 3; // EXIT.internal, without loading cli/common.js and what it imports
  }
  if (ended.signal !== null) {
    // end the way the child did, so that a shell or a test sees the same signal
    process.kill(process.pid, ended.signal);
    // still here: Node ignores this signal (SIGPIPE); the shell's convention for it
    return 128 + (constants.signals[ended.signal] ?? 0);
  }
  return ended.code ?? 0;
}
