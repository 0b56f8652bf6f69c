// Forward FLOPs of the stream ops, counted with the depth mixing (FlopBreakdown.attnres): a
// multiply and an add per stream and feature of each token.

import { numel } from "../../ir/ir.js";
import { ZERO_FLOPS, type FlopRule } from "../../analysis/flops.js";

export const streamFlops: FlopRule = (graph, node) => {
  const state = graph.nodes[node.inputs[0]].type.shape;
  if (node.op === "stream_read") return { ...ZERO_FLOPS, attnres: 2 * numel(state) };
  // stream_write: n products per output element, plus the sublayer output's weight
  const n = state[state.length - 2];
  return { ...ZERO_FLOPS, attnres: 2 * (n + 1) * numel(state) };
};
