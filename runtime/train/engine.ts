// What the training loop needs from whatever runs the model: the GPU trainer, or a CPU stand-in.

import type { TrainingState } from "../checkpoint.js";

export interface StepEngine {
  /**
   * Runs one optimizer step (forward, backward, AdamW) on tokens/targets, both [batch, seq].
   * Reads the loss back (a device sync) only when readLoss is true; otherwise returns undefined.
   */
  step(tokens: Int32Array, targets: Int32Array, lr: number, readLoss: boolean): Promise<number | undefined>;
  /** Mean cross-entropy on one batch, without changing any state. */
  evalLoss(tokens: Int32Array, targets: Int32Array): Promise<number>;
  /** The global gradient norm (before clipping) of the last step, when the engine keeps it. */
  lastGradNorm?(): Promise<number | undefined>;
  getState(): Promise<TrainingState>;
  setState(state: TrainingState): Promise<void>;
  dispose(): void;
}
