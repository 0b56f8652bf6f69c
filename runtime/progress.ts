// Progress of a training run: a live bar on a terminal, plain log lines otherwise (CI, pipes,
// files), so something is always printed while the run goes on.

import cliProgress from "cli-progress";
import { terminalStream } from "./terminal.js";

export interface ProgressReport {
  loss?: number;
  lr?: number;
  tokensPerSecond?: number;
}

export interface Progress {
  start(totalSteps: number, startStep: number): void;
  /**
   * the first step of this session has finished on the device. It carries the driver's shader
   * compilation (seconds to minutes on a software driver), so the ETA counts steps from here.
   */
  warmedUp(step: number): void;
  /** called after every step, cheap: moves the bar, prints nothing in plain mode */
  tick(step: number): void;
  /** called when the loss is read back: updates the bar's fields or prints one line */
  report(step: number, report: ProgressReport): void;
  /** a message that must not be lost under the bar (eval results, checkpoints) */
  note(message: string): void;
  stop(): void;
}

/** Where a run sits in a sweep: shown before each line, and the time the rest of the sweep needs. */
export interface SweepPosition {
  /** e.g. "variant 2/3 attn(block=2) seed 1" */
  label: string;
  /**
   * seconds the runs after this one will take, estimated from the runs finished so far, or from this
   * run's projected duration (seconds) while none has finished
   */
  remainingAfterThis?: (thisRun: number) => number;
}

/**
 * Remaining time from the steps since warm-up only. Counting from the start would charge the
 * compilation of every shader to each step: a cold 5-minute run once showed "ETA 3h09m" at step 1.
 */
export class EtaEstimator {
  private total = 0;
  private warmStep: number | undefined;
  private warmTime = 0;

  start(totalSteps: number): void {
    this.total = totalSteps;
    this.warmStep = undefined;
  }

  warmedUp(step: number): void {
    this.warmStep = step;
    this.warmTime = performance.now();
  }

  /** seconds per step since warm-up, once at least one step has run since */
  secondsPerStep(step: number): number | undefined {
    if (this.warmStep === undefined || step <= this.warmStep) return undefined;
    return (performance.now() - this.warmTime) / 1000 / (step - this.warmStep);
  }

  /** seconds left in this run; undefined while warming up */
  remaining(step: number): number | undefined {
    const perStep = this.secondsPerStep(step);
    return perStep === undefined ? undefined : perStep * (this.total - step);
  }
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

function formatEta(run: number | undefined, sweep: SweepPosition | undefined, elapsed: number): string {
  if (run === undefined) return "ETA after warm-up";
  if (!sweep?.remainingAfterThis) return `ETA ${formatDuration(run)}`;
  return `ETA ${formatDuration(run)} (sweep ${formatDuration(run + sweep.remainingAfterThis(elapsed + run))})`;
}

class PlainProgress implements Progress {
  private total = 0;
  private startTime = 0;
  private lastLine = 0;
  private readonly eta = new EtaEstimator();

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly sweep: SweepPosition | undefined,
    private readonly heartbeatSeconds = 30,
  ) {}

  private get prefix(): string {
    return this.sweep ? `[${this.sweep.label}] ` : "";
  }

  start(totalSteps: number, startStep: number): void {
    this.total = totalSteps;
    this.startTime = performance.now();
    this.lastLine = this.startTime;
    this.eta.start(totalSteps);
    this.out.write(
      this.prefix +
        (startStep > 0
          ? `resuming at step ${startStep}/${totalSteps}\n`
          : `training for ${totalSteps} steps\n`),
    );
  }

  warmedUp(step: number): void {
    this.eta.warmedUp(step);
    const seconds = (performance.now() - this.startTime) / 1000;
    // a driver compiles shaders on their first use: say where the first minute went
    if (seconds >= 1)
      this.out.write(
        `${this.prefix}first step done after ${formatDuration(seconds)} (the driver compiled its shaders)\n`,
      );
  }

  tick(step: number): void {
    // with a long log interval, still show that the run is alive
    if (performance.now() - this.lastLine > this.heartbeatSeconds * 1000) this.report(step, {});
  }

  report(step: number, report: ProgressReport): void {
    this.lastLine = performance.now();
    const elapsed = (performance.now() - this.startTime) / 1000;
    const lr = report.lr === undefined ? "" : ` | lr ${report.lr.toExponential(2)}`;
    this.out.write(
      `${this.prefix}step ${step}/${this.total} | loss ${formatLoss(report.loss)}${lr} | ${formatRate(report.tokensPerSecond)} tok/s | ${formatDuration(elapsed)} elapsed | ${formatEta(this.eta.remaining(step), this.sweep, elapsed)}\n`,
    );
  }

  note(message: string): void {
    this.out.write(this.prefix + message + "\n");
  }

  stop(): void {}
}

class BarProgress implements Progress {
  private readonly bars: cliProgress.MultiBar;
  private bar: cliProgress.SingleBar | undefined;
  private readonly eta = new EtaEstimator();
  private startTime = 0;

  private elapsed(): number {
    return (performance.now() - this.startTime) / 1000;
  }

  constructor(
    stream: NodeJS.WriteStream,
    private readonly sweep: SweepPosition | undefined,
  ) {
    // cli-progress's own ETA averages over recent updates, the slow first step included
    this.bars = new cliProgress.MultiBar(
      {
        stream,
        format: `${sweep ? `${sweep.label} | ` : ""}step {value}/{total} [{bar}] loss {loss} | {rate} tok/s | {duration_formatted} | {remaining}`,
        hideCursor: true,
        clearOnComplete: false,
        barsize: 20,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  start(totalSteps: number, startStep: number): void {
    this.eta.start(totalSteps);
    this.startTime = performance.now();
    this.bar = this.bars.create(totalSteps, startStep, {
      loss: "-",
      rate: "-",
      remaining: "compiling shaders",
    });
  }

  warmedUp(step: number): void {
    this.eta.warmedUp(step);
  }

  tick(step: number): void {
    // steps between log lines are only submitted, not finished: the estimate moves on report()
    this.bar?.update(step);
  }

  report(step: number, report: ProgressReport): void {
    this.bar?.update(step, {
      loss: formatLoss(report.loss),
      rate: formatRate(report.tokensPerSecond),
      remaining: formatEta(this.eta.remaining(step), this.sweep, this.elapsed()),
    });
  }

  note(message: string): void {
    this.bars.log(message + "\n");
  }

  stop(): void {
    this.bars.stop();
  }
}

/** A bar when `stream` reaches a terminal (unless plain is forced), log lines otherwise. */
export function createProgress(
  stream: NodeJS.WriteStream = process.stderr,
  options: { plain?: boolean; sweep?: SweepPosition } = {},
): Progress {
  const terminal = options.plain ? undefined : terminalStream(stream);
  return terminal ? new BarProgress(terminal, options.sweep) : new PlainProgress(stream, options.sweep);
}

/** Prints nothing: for tests and library use. */
export function silentProgress(): Progress {
  return { start() {}, warmedUp() {}, tick() {}, report() {}, note() {}, stop() {} };
}
