// Lowering for commands: a spec the lowering rejects is the user's mistake, not a crash.

import type { Graph } from "../compiler/ir/ir.js";
import { LoweringError, lowerDecodeStep, lowerModel } from "../compiler/ir/lower.js";
import type { ModelSpec } from "../format/spec.js";
import type { CheckpointInfo } from "../runtime/checkpoint.js";
import { UserError } from "./common.js";

function asUserError<T>(lower: () => T): T {
  try {
    return lower();
  } catch (err) {
    if (err instanceof LoweringError) throw new UserError(err.message);
    throw err;
  }
}

export function lowerForCli(model: ModelSpec, shape: { batch: number; seq: number }): Graph {
  return asUserError(() => lowerModel(model, shape));
}

/** one position of decoding for `batch` sequences (compiler/ir/lower/decode.ts) */
export function lowerDecodeStepForCli(model: ModelSpec, shape: { batch: number }): Graph {
  return asUserError(() => lowerDecodeStep(model, shape));
}

/**
 * The exact parameter shapes a checkpoint's model needs, for `loadCheckpoint`'s `expectedShapes`:
 * a tensor with the right element count but another shape is refused, not silently reshaped.
 */
export function checkpointShapes(info: CheckpointInfo): Map<string, number[]> | undefined {
  if (info.engine !== "gpu") return undefined;
  return new Map(lowerForCli(info.model, { batch: 1, seq: 1 }).params.map((p) => [p.name, [...p.shape]]));
}
