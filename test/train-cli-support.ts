// Shared by the CLI training tests: runs `archc train`/`archc generate` in-process with captured
// output, and makes a small project (a model, a train block, a corpus folder).

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseMetrics } from "../runtime/metrics.js";
import { type CliResult, runCli } from "./cli-support.js";

/** `archc ...args` with the train and generate commands registered. */
export function archc(args: string[]): Promise<CliResult> {
  return runCli([import("../cli/train.js"), import("../cli/generate.js")], args);
}

/** A project folder: a small model, a train block reading ./corpus, and that corpus. */
export function project(): { dir: string; arch: string } {
  const dir = mkdtempSync(join(tmpdir(), "archc-cli-"));
  mkdirSync(join(dir, "corpus"));
  const sentences = Array.from(
    { length: 300 },
    (_, i) => `Sentence ${i % 17} says the cat sat on mat ${i % 5}.`,
  );
  writeFileSync(join(dir, "corpus", "a.txt"), sentences.slice(0, 150).join("\n"));
  writeFileSync(join(dir, "corpus", "b.md"), sentences.slice(150).join("\n"));
  const arch = join(dir, "small.arch");
  writeFileSync(
    arch,
    `import std.transformer

model small extends gpt {
  context: 32
  dim: 16
  depth: 1
  heads: 2
}

train quick {
  model: small
  data: "corpus"
  batch: 4
  seq: 16
  steps: 20
  eval_every: 5
  eval_batches: 2
  log_every: 1
  checkpoint_every: 10
  optimizer: adamw(lr = 1e-2)
  schedule: cosine(warmup = 2)
  seed: 3
}
`,
  );
  return { dir, arch };
}

export function stepLosses(runDir: string): Map<number, number> {
  const records = parseMetrics(readFileSync(join(runDir, "metrics.jsonl"), "utf8"));
  return new Map(records.filter((r) => r.type === "step").map((r) => [r.step as number, r.loss as number]));
}
