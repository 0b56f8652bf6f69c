// Evaluates one IR node in float64 with its op's reference implementation from the op registry
// (compiler/ops/registry.ts): forward and backward ops alike, whatever was imported before.

import type { Node } from "../ir/ir.js";
import { numel } from "../ir/ir.js";
import { referenceOp } from "../ops/registry.js";
import type { Tensor } from "./tensor.js";

/** evaluates one node, checking that the result has the node's declared number of elements */
export function evaluateNode(node: Node, inputs: Tensor[]): Tensor {
  const impl = referenceOp(node.op);
  if (!impl) throw new Error(`no reference implementation for op '${node.op}' (node %${node.id})`);
  const result = impl(inputs, node);
  if (result.data.length !== numel(node.type.shape))
    throw new Error(`internal: reference ${node.op} produced ${result.data.length} values for %${node.id}`);
  return result;
}
