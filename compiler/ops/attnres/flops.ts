// Forward FLOPs of an AttnRes aggregation: key RMSNorm, query·key logits and the weighted sum of
// the sources, per position and source.

import { rowsOf } from "../../ir/ops.js";
import { ZERO_FLOPS, type FlopRule } from "../../analysis/flops.js";

export const attnresFlops: FlopRule = (_graph, node) => {
  const sources = node.attrs.sources as number;
  const d = node.type.shape[node.type.shape.length - 1];
  const positions = rowsOf(node.type.shape);
  const mix = 2 * d;
  if (node.op === "attnres_static") return { ...ZERO_FLOPS, attnres: positions * sources * mix };
  // key RMSNorm: square-and-sum, scale, gain (3 per element); logit: 2 per element
  const keyNorm = node.attrs.key_norm === true ? 3 * d : 0;
  return { ...ZERO_FLOPS, attnres: positions * sources * (keyNorm + 2 * d + mix) };
};
