// Forward FLOPs of causal attention: the QK and PV products over the causal pairs only.

import { ZERO_FLOPS, type FlopRule } from "../../analysis/flops.js";

export const attentionFlops: FlopRule = (_graph, node) => {
  const [batch, seq] = node.type.shape;
  const heads = node.attrs.heads as number;
  const headDim = node.attrs.head_dim as number;
  const causalPairs = (seq * (seq + 1)) / 2;
  // one multiply-add per dimension for q·k, and again for weighting v
  return { ...ZERO_FLOPS, attention: batch * heads * causalPairs * 2 * headDim * 2 };
};
