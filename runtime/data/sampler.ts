// Training and validation batches. A training batch is a pure function of (seed, step): resuming
// at step s, or training another model variant, sees exactly the same tokens.

import { Rng } from "./rng.js";
import type { TokenArray } from "./token-buffer.js";
import { DataError } from "./data-error.js";

export interface Batch {
  /** [batch, seq], row-major */
  tokens: Int32Array;
  /** [batch, seq]: tokens shifted left by one */
  targets: Int32Array;
}

/** Separates the training-order randomness from any other use of the same seed. */
const TRAIN_STREAM = 0x7472;

function checkWindow(stream: TokenArray, seq: number, what: string): void {
  if (stream.length < seq + 1) {
    throw new DataError(
      `the ${what} split has ${stream.length} tokens, fewer than one sequence of ${seq}+1; use more data or a shorter seq`,
    );
  }
}

function fillWindow(stream: TokenArray, start: number, seq: number, row: number, batch: Batch): void {
  const base = row * seq;
  for (let t = 0; t < seq; t++) {
    batch.tokens[base + t] = stream[start + t];
    batch.targets[base + t] = stream[start + t + 1];
  }
}

export class BatchSampler {
  constructor(
    private readonly stream: TokenArray,
    readonly batch: number,
    readonly seq: number,
    readonly seed: number,
  ) {
    checkWindow(stream, seq, "training");
  }

  /** The batch for one step: `batch` windows of seq+1 tokens at uniformly random offsets. */
  batchAt(step: number): Batch {
    const rng = new Rng(this.seed, TRAIN_STREAM, step);
    const out: Batch = {
      tokens: new Int32Array(this.batch * this.seq),
      targets: new Int32Array(this.batch * this.seq),
    };
    const starts = this.stream.length - this.seq; // valid window starts: 0 .. length-seq-1
    for (let row = 0; row < this.batch; row++)
      fillWindow(this.stream, rng.nextInt(starts), this.seq, row, out);
    return out;
  }
}

/**
 * Fixed validation batches: windows at evenly spaced offsets over the whole validation split,
 * so every evaluation of every run measures the same text.
 */
export function validationBatches(stream: TokenArray, batch: number, seq: number, count: number): Batch[] {
  checkWindow(stream, seq, "validation");
  const windows = batch * count;
  const lastStart = stream.length - seq - 1;
  const out: Batch[] = [];
  for (let b = 0; b < count; b++) {
    const current: Batch = { tokens: new Int32Array(batch * seq), targets: new Int32Array(batch * seq) };
    for (let row = 0; row < batch; row++) {
      const w = b * batch + row;
      const start = windows === 1 ? 0 : Math.floor((w * lastStart) / (windows - 1));
      fillWindow(stream, start, seq, row, current);
    }
    out.push(current);
  }
  return out;
}
