// Restoring an engine from a checkpoint: parameters, AdamW moments and the step count, which is
// all the loop needs to continue exactly where it stopped (the data order follows the step).

import { loadCheckpoint, resolveCheckpoint, type CheckpointInfo } from "../checkpoint.js";
import type { StepEngine } from "./engine.js";

export interface Restored {
  checkpoint: string;
  step: number;
  info: CheckpointInfo;
}

/** Loads the checkpoint at `path` (a checkpoint or a run directory) into the engine. */
export async function restoreEngine(engine: StepEngine, path: string): Promise<Restored> {
  const dir = resolveCheckpoint(path);
  if (!dir) throw new Error(`no checkpoint found at ${path}`);
  const loaded = loadCheckpoint(dir, { optimizer: true });
  await engine.setState({ step: loaded.info.step, params: loaded.params, m: loaded.m!, v: loaded.v! });
  return { checkpoint: dir, step: loaded.info.step, info: loaded.info };
}
