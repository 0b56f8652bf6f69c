import { execSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LOCK_FILE, lockRun, RunLockedError } from "../runtime/train/run-lock.js";

describe("run directory lock", () => {
  it("holds the owner's pid until released", () => {
    const run = mkdtempSync(join(tmpdir(), "archc-lock-"));
    const unlock = lockRun(run);
    expect(readFileSync(join(run, LOCK_FILE), "utf8").trim()).toBe(String(process.pid));
    unlock();
    expect(existsSync(join(run, LOCK_FILE))).toBe(false);
  });

  it("refuses a directory locked by a live process", () => {
    const run = mkdtempSync(join(tmpdir(), "archc-lock-"));
    writeFileSync(join(run, LOCK_FILE), `${process.ppid}\n`); // our parent is certainly alive
    expect(() => lockRun(run)).toThrow(RunLockedError);
    expect(() => lockRun(run)).toThrow(new RegExp(`in use by another archc train \\(pid ${process.ppid}\\)`));
  });

  it("waits a moment for a live owner that is exiting, as a trainer whose launcher was killed is", () => {
    const run = mkdtempSync(join(tmpdir(), "archc-lock-"));
    // an orphan that ends shortly, like that trainer
    const owner = Number(execSync("sleep 0.3 > /dev/null 2>&1 & echo $!", { encoding: "utf8" }));
    writeFileSync(join(run, LOCK_FILE), `${owner}\n`);
    const unlock = lockRun(run);
    expect(readFileSync(join(run, LOCK_FILE), "utf8").trim()).toBe(String(process.pid));
    unlock();
  });

  it("takes over the lock of a process that no longer exists", () => {
    const run = mkdtempSync(join(tmpdir(), "archc-lock-"));
    writeFileSync(join(run, LOCK_FILE), "2147483646\n");
    const unlock = lockRun(run);
    expect(readFileSync(join(run, LOCK_FILE), "utf8").trim()).toBe(String(process.pid));
    unlock();
  });
});
