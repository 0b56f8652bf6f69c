// Forward FLOPs of cached attention, counted at a full cache (position context - 1): the FLOPs of
// one decoded token depend on its position, known only at run time, so this is the upper bound.

import { ZERO_FLOPS, type FlopRule } from "../../analysis/flops.js";

export const cachedAttentionFlops: FlopRule = (graph, node) => {
  const batch = node.type.shape[0];
  const context = graph.nodes[node.inputs[3]].type.shape[0];
  const heads = node.attrs.heads as number;
  const headDim = node.attrs.head_dim as number;
  // one multiply-add per dimension for q·k, and again for weighting v, over every cached position
  return { ...ZERO_FLOPS, attention: batch * heads * context * 2 * headDim * 2 };
};
