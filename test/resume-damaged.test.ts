// A damaged checkpoint under a run directory: resuming reports it (naming the file) and touches
// nothing the user had, and an earlier good checkpoint still resumes with --resume DIR/ckpt-N to
// exactly the losses of the uninterrupted run.

import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { archc, project, stepLosses } from "./train-cli-support.js";

/** every file under dir with a hash of its bytes: what "nothing lost or overwritten" compares */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(path, createHash("sha256").update(readFileSync(path)).digest("hex"));
    }
  };
  walk(dir);
  return files;
}

describe("resuming past a damaged checkpoint", () => {
  it("reports the damage, changes nothing, and resumes from an earlier checkpoint", async () => {
    const { dir, arch } = project();
    const run = join(dir, "run");
    const first = await archc(["train", arch, "--cpu-bigram", "--plain", "--out", run]);
    expect(first.exitCode).toBe(0);
    const whole = stepLosses(run);

    // damage the newest checkpoint's parameters: a byte of the header's JSON
    const damaged = join(run, "ckpt-20", "model.safetensors");
    const bytes = readFileSync(damaged);
    bytes[12] = "!".charCodeAt(0);
    writeFileSync(damaged, bytes);
    const before = snapshot(run);

    const refused = await archc(["train", arch, "--cpu-bigram", "--plain", "--resume", run]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(damaged);
    expect(refused.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(snapshot(run)).toEqual(before);

    const resumed = await archc(["train", arch, "--cpu-bigram", "--plain", "--resume", join(run, "ckpt-10")]);
    expect(resumed.stderr).toMatch(/resuming at step 10\/20/);
    expect(resumed.exitCode).toBe(0);
    const after = stepLosses(run);
    for (let step = 11; step <= 20; step++) expect(after.get(step)).toBe(whole.get(step));
    // the earlier checkpoints are as they were
    for (const [path, hash] of before)
      if (path.includes("ckpt-10")) expect(snapshot(run).get(path)).toBe(hash);
  });
});
