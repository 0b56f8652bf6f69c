// Restoring an engine from a checkpoint: parameters, AdamW moments and the step count, which is
// all the loop needs to continue exactly where it stopped (the data order follows the step).
// The checkpoint is checked completely before the engine is touched (runtime/checkpoint.ts): a
// damaged or non-finite one is a DamagedFileError, so training never resumes from a diverged state.

import { loadCheckpoint, resolveCheckpoint, type CheckpointInfo } from "../checkpoint.js";
import { DamagedFileError } from "../../format/damaged-file.js";
import type { StepEngine } from "./engine.js";

export interface Restored {
  checkpoint: string;
  step: number;
  info: CheckpointInfo;
}

/**
 * Loads the checkpoint at `path` (a checkpoint or a run directory) into the engine. The parameter
 * shapes it must hold are `shapes` when given, else the engine's own (`shapes()`, which the GPU
 * engine has).
 */
export async function restoreEngine(
  engine: StepEngine,
  path: string,
  shapes?: ReadonlyMap<string, readonly number[]>,
): Promise<Restored> {
  const dir = resolveCheckpoint(path);
  if (!dir)
    throw new DamagedFileError(
      path,
      "holds no checkpoint",
      "give a ckpt-N directory or a run directory with checkpoints",
    );
  const own = (engine as { shapes?: () => ReadonlyMap<string, readonly number[]> }).shapes;
  const expectedShapes = shapes ?? (typeof own === "function" ? own.call(engine) : undefined);
  const loaded = loadCheckpoint(dir, { optimizer: true, expectedShapes });
  await engine.setState({ step: loaded.info.step, params: loaded.params, m: loaded.m!, v: loaded.v! });
  return { checkpoint: dir, step: loaded.info.step, info: loaded.info };
}
