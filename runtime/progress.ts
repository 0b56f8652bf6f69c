// Progress of a training run: a live bar on a terminal, plain log lines otherwise (CI, pipes,
// files), so something is always printed while the run goes on.

import cliProgress from "cli-progress";

export interface ProgressReport {
  loss?: number;
  lr?: number;
  tokensPerSecond?: number;
}

export interface Progress {
  start(totalSteps: number, startStep: number): void;
  /** called after every step, cheap: moves the bar, prints nothing in plain mode */
  tick(step: number): void;
  /** called when the loss is read back: updates the bar's fields or prints one line */
  report(step: number, report: ProgressReport): void;
  /** a message that must not be lost under the bar (eval results, checkpoints) */
  note(message: string): void;
  stop(): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, "0")}m`
    : m > 0
      ? `${m}m${String(rest).padStart(2, "0")}s`
      : `${rest}s`;
}

function formatLoss(loss: number | undefined): string {
  return loss === undefined ? "-" : loss.toFixed(4);
}

function formatRate(tokensPerSecond: number | undefined): string {
  if (tokensPerSecond === undefined) return "-";
  return tokensPerSecond >= 1000 ? `${(tokensPerSecond / 1000).toFixed(1)}k` : tokensPerSecond.toFixed(0);
}

class PlainProgress implements Progress {
  private total = 0;
  private startStep = 0;
  private startTime = 0;
  private lastLine = 0;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly heartbeatSeconds = 30,
  ) {}

  start(totalSteps: number, startStep: number): void {
    this.total = totalSteps;
    this.startStep = startStep;
    this.startTime = performance.now();
    this.lastLine = this.startTime;
    this.out.write(
      startStep > 0 ? `resuming at step ${startStep}/${totalSteps}\n` : `training for ${totalSteps} steps\n`,
    );
  }

  tick(step: number): void {
    // with a long log interval, still show that the run is alive
    if (performance.now() - this.lastLine > this.heartbeatSeconds * 1000) this.report(step, {});
  }

  report(step: number, report: ProgressReport): void {
    this.lastLine = performance.now();
    const elapsed = (performance.now() - this.startTime) / 1000;
    const done = step - this.startStep;
    const eta = done > 0 ? (elapsed / done) * (this.total - step) : NaN;
    const lr = report.lr === undefined ? "" : ` | lr ${report.lr.toExponential(2)}`;
    this.out.write(
      `step ${step}/${this.total} | loss ${formatLoss(report.loss)}${lr} | ${formatRate(report.tokensPerSecond)} tok/s | ${formatDuration(elapsed)} elapsed | ETA ${formatDuration(eta)}\n`,
    );
  }

  note(message: string): void {
    this.out.write(message + "\n");
  }

  stop(): void {}
}

class BarProgress implements Progress {
  private readonly bars: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | undefined;

  constructor(stream: NodeJS.WriteStream) {
    this.bars = new cliProgress.MultiBar(
      {
        stream,
        format:
          "step {value}/{total} [{bar}] loss {loss} | {rate} tok/s | {duration_formatted} | ETA {eta_formatted}",
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  start(totalSteps: number, startStep: number): void {
    this.bar = this.bars.create(totalSteps, startStep, { loss: "-", rate: "-" });
  }

  tick(step: number): void {
    this.bar?.update(step);
  }

  report(step: number, report: ProgressReport): void {
    this.bar?.update(step, { loss: formatLoss(report.loss), rate: formatRate(report.tokensPerSecond) });
  }

  note(message: string): void {
    this.bars.log(message + "\n");
  }

  stop(): void {
    this.bars.stop();
  }
}

/** A bar when `stream` is a terminal (unless plain is forced), log lines otherwise. */
export function createProgress(
  stream: NodeJS.WriteStream = process.stderr,
  options: { plain?: boolean } = {},
): Progress {
  return stream.isTTY && !options.plain ? new BarProgress(stream) : new PlainProgress(stream);
}

/** Prints nothing: for tests and library use. */
export function silentProgress(): Progress {
  return { start() {}, tick() {}, report() {}, note() {}, stop() {} };
}
