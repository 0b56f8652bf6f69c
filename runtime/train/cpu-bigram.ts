// A CPU StepEngine over the smallest language model there is: a bigram logit table
// (next-token logits = table[current token]), trained with AdamW. It exists so the training loop,
// checkpoints and resume can be exercised, and the pipeline demonstrated, without a GPU.
// State lives in Float32Arrays so a checkpoint round-trip reproduces it bit for bit.

import type { OptimizerSpec } from "../../format/spec.js";
import type { TrainingState } from "../checkpoint.js";
import { adamwStep } from "../optim/adamw.js";
import type { StepEngine } from "./engine.js";

export const BIGRAM_TABLE = "bigram.table";

export function bigramShapes(vocab: number): Map<string, number[]> {
  return new Map([[BIGRAM_TABLE, [vocab, vocab]]]);
}

/** The table's initial values: small, seeded, deterministic. */
export function initialBigramTable(vocab: number, seed: number): Float32Array {
  const table = new Float32Array(vocab * vocab);
  let state = (seed ^ 0x5bd1e995) >>> 0;
  for (let i = 0; i < table.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    table[i] = (state / 2 ** 32 - 0.5) * 0.02;
  }
  return table;
}

/** Mean cross-entropy of the table on tokens/targets; fills `gradient` (dLoss/dTable) when given. */
export function bigramLoss(
  table: Float32Array,
  vocab: number,
  tokens: Int32Array,
  targets: Int32Array,
  gradient?: Float64Array,
): number {
  const row = new Float64Array(vocab);
  let total = 0;
  for (let i = 0; i < tokens.length; i++) {
    const base = tokens[i] * vocab;
    let max = -Infinity;
    for (let j = 0; j < vocab; j++) max = Math.max(max, table[base + j]);
    let sum = 0;
    for (let j = 0; j < vocab; j++) sum += row[j] = Math.exp(table[base + j] - max);
    total += Math.log(sum) - (table[base + targets[i]] - max);
    if (gradient) {
      for (let j = 0; j < vocab; j++) gradient[base + j] += row[j] / sum / tokens.length;
      gradient[base + targets[i]] -= 1 / tokens.length;
    }
  }
  return total / tokens.length;
}

export class CpuBigramEngine implements StepEngine {
  private table: Float32Array;
  private m: Float32Array;
  private v: Float32Array;
  private steps = 0;
  private gradNorm: number | undefined;
  private readonly decayEverything: Uint32Array;

  constructor(
    readonly vocab: number,
    private readonly optimizer: OptimizerSpec,
    seed: number,
  ) {
    this.table = initialBigramTable(vocab, seed);
    this.m = new Float32Array(vocab * vocab);
    this.v = new Float32Array(vocab * vocab);
    this.decayEverything = new Uint32Array(Math.ceil((vocab * vocab) / 32)).fill(0xffffffff);
  }

  async step(
    tokens: Int32Array,
    targets: Int32Array,
    lr: number,
    readLoss: boolean,
  ): Promise<number | undefined> {
    const gradient = new Float64Array(this.table.length);
    const loss = bigramLoss(this.table, this.vocab, tokens, targets, gradient);
    this.steps += 1;
    const buffers = { params: this.table, grads: gradient, m: this.m, v: this.v };
    this.gradNorm = adamwStep(buffers, this.decayEverything, this.optimizer, this.steps, lr);
    return readLoss ? loss : undefined;
  }

  async evalLoss(tokens: Int32Array, targets: Int32Array): Promise<number> {
    return bigramLoss(this.table, this.vocab, tokens, targets);
  }

  async lastGradNorm(): Promise<number | undefined> {
    return this.gradNorm;
  }

  async getState(): Promise<TrainingState> {
    return {
      step: this.steps,
      params: new Map([[BIGRAM_TABLE, this.table.slice()]]),
      m: new Map([[BIGRAM_TABLE, this.m.slice()]]),
      v: new Map([[BIGRAM_TABLE, this.v.slice()]]),
    };
  }

  async setState(state: TrainingState): Promise<void> {
    const size = this.vocab * this.vocab;
    const pick = (map: Map<string, Float32Array>, what: string): Float32Array => {
      const data = map.get(BIGRAM_TABLE);
      if (!data || data.length !== size)
        throw new Error(`bigram state: ${what} "${BIGRAM_TABLE}" missing or not ${this.vocab}x${this.vocab}`);
      return data.slice();
    };
    this.table = pick(state.params, "parameter");
    this.m = pick(state.m, "moment m");
    this.v = pick(state.v, "moment v");
    this.steps = state.step;
  }

  dispose(): void {}
}
