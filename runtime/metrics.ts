// Training metrics as JSON Lines (<run>/metrics.jsonl): a header record with the configuration,
// one record per logged step, one per evaluation. Each record is appended as soon as it exists,
// so a crashed run keeps everything up to the crash and `tail -f` follows a live one.

import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { makeOutputDir } from "../format/output-dir.js";

export interface StepRecord {
  step: number; // optimizer steps completed
  loss: number;
  lr: number;
  grad_norm?: number;
  tokens_per_s: number;
  elapsed_s: number;
}

export interface EvalRecord {
  step: number;
  val_loss: number;
  elapsed_s: number;
}

export class MetricsLog {
  constructor(readonly path: string) {
    makeOutputDir(dirname(path));
    // a kill mid-append leaves a torn last line: end it, so the next record starts a line of its own
    if (existsSync(path)) {
      const text = readFileSync(path);
      if (text.length > 0 && text[text.length - 1] !== 0x0a) appendFileSync(path, "\n");
    }
  }

  /** Written at the start of every run and every resume, so a resumed file says where it joined. */
  header(config: Record<string, unknown>): void {
    this.append({ type: "header", time: new Date().toISOString(), ...config });
  }

  step(record: StepRecord): void {
    this.append({ type: "step", ...record });
  }

  eval(record: EvalRecord): void {
    this.append({ type: "eval", ...record });
  }

  event(kind: string, fields: Record<string, unknown> = {}): void {
    this.append({ type: kind, time: new Date().toISOString(), ...fields });
  }

  private append(record: Record<string, unknown>): void {
    // JSON has no NaN or Infinity; a diverged loss is recorded as a string rather than as null
    appendFileSync(
      this.path,
      JSON.stringify(record, (_, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)) + "\n",
    );
  }
}

/** Reads a metrics file back (for tests and tools). */
export function parseMetrics(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
