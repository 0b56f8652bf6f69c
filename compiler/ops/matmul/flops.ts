// Forward FLOPs of a matmul: 2·m·n·k.

import { ZERO_FLOPS, type FlopRule } from "../../analysis/flops.js";
import { numel } from "../../ir/ir.js";
import { rowsOf } from "../../ir/ops.js";

export const matmulFlops: FlopRule = (graph, node) => {
  const a = graph.nodes[node.inputs[0]].type.shape;
  // the contracted dimension is whichever side of a is not kept in the result
  const k = node.attrs.ta === true ? rowsOf(a) : a[a.length - 1];
  return { ...ZERO_FLOPS, matmul: 2 * numel(node.type.shape) * k };
};
