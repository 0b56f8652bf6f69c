// The launcher (cli/launcher.ts): device commands run in a child process whose stderr passes
// through a filter that drops Dawn's unactionable limit warnings. Unit tests of the filter and of
// the terminal the child draws its progress bar on; then `archc` itself: its output, its exit
// codes and signals, and a child that dies with its launcher.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { interruptHandler, SAME_INTERRUPT_MS } from "../cli/interrupt.js";
import { StderrNoiseFilter } from "../cli/stderr-filter.js";
import { createProgress } from "../runtime/progress.js";
import { stderrReachesLauncherTerminal, terminalStream } from "../runtime/terminal.js";
import { lockRun } from "../runtime/train/run-lock.js";

const NOISE = [
  "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n",
  "Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n",
];

/** everything the filter lets through when `chunks` arrive one after another and the stream ends */
function filtered(chunks: string[]): string {
  const filter = new StderrNoiseFilter();
  return chunks.map((chunk) => filter.push(chunk)).join("") + filter.end();
}

describe("interrupts", () => {
  it("count a Ctrl-C that arrives twice (terminal and launcher) as one; a later one quits", () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    try {
      const calls: string[] = [];
      const handle = interruptHandler(
        () => calls.push("save"),
        () => calls.push("quit"),
      );
      handle();
      vi.advanceTimersByTime(5);
      handle(); // the same Ctrl-C, forwarded by the launcher
      expect(calls).toEqual(["save"]);
      vi.advanceTimersByTime(SAME_INTERRUPT_MS);
      handle();
      expect(calls).toEqual(["save", "quit"]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("stderr noise filter", () => {
  it("drops Dawn's limit warnings and passes every other line through, in order", () => {
    const text = `compiling\n${NOISE[0]}${NOISE[1]}device llvmpipe\n`;
    expect(filtered([text])).toBe("compiling\ndevice llvmpipe\n");
    expect(filtered([`${NOISE[0].replace("\n", "\r\n")}x\n`])).toBe("x\n");
  });

  it("keeps warnings that only look alike", () => {
    const lookalikes = [
      "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16.\n",
      "Warning: maxBindGroups artificially reduced from 8 to 4 to fit dynamic offset allocation limit.\n",
      "  " + NOISE[0],
      NOISE[0].replace(".\n", ". (and more)\n"),
      "Warning: something else entirely\n",
    ];
    for (const line of lookalikes) expect(filtered([line])).toBe(line);
  });

  it("passes a progress bar's updates without a newline through at once", () => {
    const filter = new StderrNoiseFilter();
    expect(filter.push("\x1b[1Gstep 1/8 [##----] loss -\x1b[0K")).toBe(
      "\x1b[1Gstep 1/8 [##----] loss -\x1b[0K",
    );
    expect(filter.push("\rstep 2/8")).toBe("\rstep 2/8");
    expect(filter.push(" | loss 3.2")).toBe(" | loss 3.2");
  });

  it("holds back a fragment only while it can still become a noise line", () => {
    const filter = new StderrNoiseFilter();
    expect(filter.push("done\nWarn")).toBe("done\n");
    expect(filter.push("ing: maxDynamicUniform")).toBe("");
    expect(filter.push("BuffersPerPipelineLayout artificially reduced from 10")).toBe("");
    // it turns out to be another line: everything held is printed, in order, without waiting for a newline
    expect(filter.push("0 tokens")).toBe(
      "Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 100 tokens",
    );
    expect(filter.push("Warning: d")).toBe("Warning: d");
    expect(filter.end()).toBe("");
  });

  it("prints a held fragment when the stream ends without completing it", () => {
    expect(filtered(["Warning: maxDyn"])).toBe("Warning: maxDyn");
  });

  it("gives the same output however the stream is cut into chunks", () => {
    const text = `a\n${NOISE[0]}\x1b[1Gstep 1\rstep 2\x1b[0K\n${NOISE[1]}Warning: kept\nWarning: maxDynamic\nz`;
    const expected = `a\n\x1b[1Gstep 1\rstep 2\x1b[0K\nWarning: kept\nWarning: maxDynamic\nz`;
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j += 7) {
        expect(filtered([text.slice(0, i), text.slice(i, j), text.slice(j)])).toBe(expected);
      }
    }
    expect(filtered([...text])).toBe(expected);
  });
});

describe("a terminal through the launcher", () => {
  it("draws a bar on stderr piped to a launcher whose stderr is a terminal", () => {
    const isTTY = Object.getOwnPropertyDescriptor(process.stderr, "isTTY");
    // this process's stderr is a pipe, as in the launcher's child
    Object.defineProperty(process.stderr, "isTTY", { value: false, configurable: true });
    let written = "";
    const write = vi
      .spyOn(process.stderr, "write")
      .mockImplementation((chunk) => ((written += String(chunk)), true));
    try {
      expect(terminalStream(process.stderr)).toBeUndefined();
      stderrReachesLauncherTerminal(77);
      const terminal = terminalStream(process.stderr);
      expect(terminal?.isTTY).toBe(true);
      expect(terminal?.columns).toBe(77);
      const progress = createProgress(process.stderr);
      progress.start(10, 0);
      progress.report(3, { loss: 2.5 });
      progress.stop();
    } finally {
      write.mockRestore();
      if (isTTY) Object.defineProperty(process.stderr, "isTTY", isTTY);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
    expect(written).toMatch(/\x1b\[\?25l/); // the bar hides the cursor: terminal mode
    expect(written).toMatch(/step 3\/10 \[.*\] loss 2\.5000/);
    expect(written).not.toMatch(/training for 10 steps/); // not the plain log lines
    expect(terminalStream(new PassThrough() as unknown as NodeJS.WriteStream)).toBeUndefined();
  });
});

const cli = resolve(__dirname, "..", "bin", "archc.js");

/** the environment of a user who has not asked for raw stderr */
function filteredEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.ARCHC_RAW_STDERR;
  return env;
}

function archc(args: string[], env: NodeJS.ProcessEnv = filteredEnv()) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env, timeout: 120_000 });
}

const isNoise = (line: string) => /artificially reduced/.test(line);

describe("archc through the launcher", () => {
  it("lists the adapter with Dawn's limit warnings, and nothing else, left out of stderr", () => {
    const clean = archc(["devices"]);
    expect(clean.status).toBe(0);
    expect(clean.stdout).toMatch(/^\S.* \((software|hardware)\)\n {2}vendor /m);
    expect(clean.stderr.split("\n").filter(isNoise)).toEqual([]);
    const raw = archc(["devices"], { ...process.env, ARCHC_RAW_STDERR: "1" });
    expect(raw.status).toBe(0);
    expect(clean.stdout).toBe(raw.stdout);
    expect(clean.stderr).toBe(
      raw.stderr
        .split(/(?<=\n)/)
        .filter((line) => !isNoise(line))
        .join(""),
    );
  });

  it("exits with the command's code: 2 for bad usage, 1 for a user error", () => {
    const usage = archc(["devices", "--no-such-flag"]);
    expect(usage.stderr).toMatch(/unknown option '--no-such-flag'/);
    expect(usage.status).toBe(2);
    const missing = archc(["train", join(tmpdir(), "archc-no-such-file.arch")]);
    expect(missing.stderr).toMatch(/cannot read/);
    expect(missing.status).toBe(1);
  });
});

// Training that stays silent after its first lines: a killed launcher must end its child by the
// lifeline, not by the child's next write to stderr failing.
const QUIET = `import std.transformer

model small extends gpt {
  context: 32
  dim: 16
  depth: 1
  heads: 2
}

train quiet {
  model: small
  data: "corpus"
  batch: 4
  seq: 16
  steps: 100000
  eval_every: 100000
  eval_batches: 1
  log_every: 100000
  checkpoint_every: 100000
  optimizer: adamw(lr = 1e-2)
  seed: 3
}
`;

describe("signals and the launcher's child", () => {
  let root: string;
  let arch: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "archc-launcher-"));
    mkdirSync(join(root, "corpus"));
    const text = Array.from(
      { length: 300 },
      (_, i) => `Sentence ${i % 17} says the cat sat on mat ${i % 5}.`,
    );
    writeFileSync(join(root, "corpus", "a.txt"), text.join("\n"));
    arch = join(root, "quiet.arch");
    writeFileSync(arch, QUIET);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** `archc train` into runDir, started; resolves once training runs, with the trainer's pid */
  async function startTraining(
    runDir: string,
    options: { detached?: boolean; env?: NodeJS.ProcessEnv } = {},
  ): Promise<{ launcher: ChildProcess; trainer: number; stderr: () => string }> {
    const launcher = spawn(process.execPath, [cli, "train", arch, "--out", runDir, "--plain"], {
      stdio: ["ignore", "ignore", "pipe"],
      env: options.env ?? filteredEnv(),
      detached: options.detached,
    });
    let stderr = "";
    launcher.stderr!.on("data", (chunk) => (stderr += String(chunk)));
    await new Promise<void>((started, failed) => {
      const timer = setInterval(() => {
        if (stderr.includes("training for 100000 steps\n")) {
          clearInterval(timer);
          started();
        }
      }, 2);
      launcher.once("exit", () => {
        clearInterval(timer);
        failed(new Error(`archc train ended before training:\n${stderr}`));
      });
    });
    // the lock holds the pid of the process that trains
    const trainer = Number.parseInt(readFileSync(join(runDir, ".lock"), "utf8"), 10);
    return { launcher, trainer, stderr: () => stderr };
  }

  function ended(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (child.exitCode !== null || child.signalCode !== null)
      return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
    return new Promise((done) => child.once("exit", (code, signal) => done({ code, signal })));
  }

  /** whether pid runs: a zombie has exited (PID 1 may never reap an orphan) */
  function running(pid: number): boolean {
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
    } catch {
      return true;
    }
  }

  /** milliseconds until pid stops running, polling; Infinity past `limit` */
  async function goneWithin(pid: number, limit: number): Promise<number> {
    const start = performance.now();
    while (running(pid)) {
      if (performance.now() - start > limit) return Infinity;
      await new Promise((r) => setTimeout(r, 5));
    }
    return performance.now() - start;
  }

  /** resolves once `text()` has not grown for `ms` milliseconds */
  async function quietFor(text: () => string, ms: number): Promise<void> {
    let length = text().length;
    let since = performance.now();
    while (performance.now() - since < ms) {
      await new Promise((r) => setTimeout(r, 20));
      if (text().length !== length) [length, since] = [text().length, performance.now()];
    }
  }

  it("kills the trainer at once when the launcher is killed with SIGKILL, and frees its run folder", async () => {
    const runDir = join(root, "killed");
    const { launcher, trainer, stderr } = await startTraining(runDir);
    expect(trainer).not.toBe(launcher.pid); // the trainer is the launcher's child
    // past the "first step done" line (printed when the first step takes a second or more), the
    // trainer writes nothing for 30 s: no failed write to stderr can end it in the launcher's place
    await quietFor(stderr, 1500);
    launcher.kill("SIGKILL");
    expect(await ended(launcher)).toEqual({ code: null, signal: "SIGKILL" });
    try {
      // left alone, it would train on until its next write to stderr failed
      expect(await goneWithin(trainer, 500)).toBeLessThan(500);
    } finally {
      if (running(trainer)) process.kill(trainer, "SIGKILL");
    }
    lockRun(runDir)(); // a rerun takes the folder over at once
  });

  it("forwards SIGTERM and ends by the same signal as the trainer", async () => {
    const { launcher, trainer } = await startTraining(join(root, "terminated"));
    launcher.kill("SIGTERM");
    expect(await ended(launcher)).toEqual({ code: null, signal: "SIGTERM" });
    expect(await goneWithin(trainer, 2000)).toBeLessThan(2000);
  });

  it("forwards a SIGINT that no terminal sent: the trainer saves a checkpoint, and 130 comes back", async () => {
    // a session of its own has no terminal whose Ctrl-C would reach the trainer too
    const runDir = join(root, "interrupted");
    const { launcher, stderr } = await startTraining(runDir, { detached: true });
    launcher.kill("SIGINT");
    expect(await ended(launcher)).toEqual({ code: 130, signal: null });
    expect(stderr()).toMatch(/stopping after this step and saving a checkpoint/);
    expect(stderr()).toMatch(/interrupted at step \d+ .* checkpoint .*ckpt-\d+\n$/);
  });

  it("runs the command in its own process with ARCHC_RAW_STDERR=1", async () => {
    const { launcher, trainer } = await startTraining(join(root, "raw"), {
      env: { ...process.env, ARCHC_RAW_STDERR: "1" },
    });
    expect(trainer).toBe(launcher.pid);
    launcher.kill("SIGKILL");
    await ended(launcher);
  });
});
