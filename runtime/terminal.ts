// Whether stderr ends on a terminal. Commands that open a GPU device run in a child process whose
// stderr is a pipe to the launcher (cli/launcher.ts), which copies it to its own stderr; the
// launcher says whether that is a terminal and how wide, and this process's stderr stands in for it.

let launcherTerminal: { columns: number | undefined } | undefined;

/** In the launcher's child: its stderr reaches a terminal `columns` wide (undefined: unknown). */
export function stderrReachesLauncherTerminal(columns: number | undefined): void {
  launcherTerminal = { columns };
}

/**
 * `stream` to draw on as on a terminal: itself when it is one; for this process's stderr piped
 * to a launcher's terminal, a view that says so; undefined when it does not reach a terminal.
 */
export function terminalStream(stream: NodeJS.WriteStream): NodeJS.WriteStream | undefined {
  if (stream.isTTY) return stream;
  if (stream !== process.stderr || !launcherTerminal) return undefined;
  // cli-progress uses only these of a stream: its cursor moves are escape codes it writes
  const view = { isTTY: true, columns: launcherTerminal.columns, write: stream.write.bind(stream) };
  return view as unknown as NodeJS.WriteStream;
}
