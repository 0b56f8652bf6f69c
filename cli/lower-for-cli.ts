// Lowering for commands: a spec the lowering rejects is the user's mistake, not a crash.

import type { Graph } from "../compiler/ir/ir.js";
import { LoweringError, lowerModel } from "../compiler/ir/lower.js";
import type { ModelSpec } from "../compiler/spec.js";
import { UserError } from "./common.js";

export function lowerForCli(model: ModelSpec, shape: { batch: number; seq: number }): Graph {
  try {
    return lowerModel(model, shape);
  } catch (err) {
    if (err instanceof LoweringError) throw new UserError(err.message);
    throw err;
  }
}
