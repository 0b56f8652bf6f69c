// Shared by `archc generate` and `archc eval`: find the checkpoint a path names (a ckpt-N folder or
// a run folder's latest), and load its parameters with every tensor's shape checked against the
// model its state.json describes.

import type { LoadedCheckpoint } from "../runtime/checkpoint.js";
import { UserError } from "./common.js";

export async function openCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const { loadCheckpoint, resolveCheckpoint } = await import("../runtime/checkpoint.js");
  const dir = resolveCheckpoint(path);
  if (!dir)
    throw new UserError(
      `no checkpoint at ${path} (expected a ckpt-N directory with state.json, or a run directory)`,
    );
  const { checkpointShapes } = await import("./lower-for-cli.js");
  const checkpoint = loadCheckpoint(dir, { optimizer: false, expectedShapes: checkpointShapes });
  if (checkpoint.info.engine !== "gpu" && checkpoint.info.engine !== "cpu-bigram")
    throw new UserError(`${dir}: engine "${checkpoint.info.engine}" is not one archc writes`);
  return checkpoint;
}

/** refuses a checkpoint that lacks one of `params` or holds it in another shape */
export function expectCheckpointFits(
  checkpoint: LoadedCheckpoint,
  params: readonly { name: string; shape: readonly number[] }[],
): void {
  for (const p of params) {
    const shape = checkpoint.shapes.get(p.name);
    if (!shape || shape.join(",") !== p.shape.join(","))
      throw new UserError(
        `${checkpoint.dir}: parameter ${p.name} is ${shape ? `[${shape}]` : "missing"}, the model needs [${p.shape}]`,
      );
  }
}
