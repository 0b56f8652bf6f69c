// Ctrl-C handling shared by the commands that train: the first interrupt stops after the current
// step and saves a checkpoint, a later one quits at once.
//
// Under the launcher (cli/launcher.ts) one Ctrl-C at a terminal arrives twice, milliseconds apart:
// from the terminal to the whole process group, and forwarded by the launcher, which must forward
// because an interrupt sent to it alone (by a supervising program) would otherwise be lost. So
// interrupts closer together than a person presses twice count as one.

/** interrupts closer together than this are one */
export const SAME_INTERRUPT_MS = 300;

export function interruptHandler(first: () => void, again: () => void): () => void {
  let firstAt: number | undefined;
  return () => {
    const now = performance.now();
    if (firstAt === undefined) {
      firstAt = now;
      first();
    } else if (now - firstAt >= SAME_INTERRUPT_MS) again();
  };
}
