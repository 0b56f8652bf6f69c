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

  it("takes over the lock of a process that no longer exists", () => {
    const run = mkdtempSync(join(tmpdir(), "archc-lock-"));
    writeFileSync(join(run, LOCK_FILE), "2147483646\n");
    const unlock = lockRun(run);
    expect(readFileSync(join(run, LOCK_FILE), "utf8").trim()).toBe(String(process.pid));
    unlock();
  });
});
