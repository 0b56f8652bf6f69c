// Forward FLOPs of one node, by kind: the rule each op names in the op registry
// (compiler/ops/registry.ts). Counted: matmuls (2·m·n·k), attention's QK and PV products over the
// causal pairs only, and (in compiler/ops/attnres/flops.ts) the AttnRes aggregation.
// Not counted: elementwise ops, norms, softmaxes and the loss — a few FLOPs per element, small next
// to the products and the same for every residual variant.

import type { Graph, Node } from "../ir/ir.js";

export interface FlopBreakdown {
  matmul: number;
  attention: number;
  attnres: number;
}

export type FlopRule = (graph: Graph, node: Node) => FlopBreakdown;

export const ZERO_FLOPS: FlopBreakdown = { matmul: 0, attention: 0, attnres: 0 };

export const uncounted: FlopRule = () => ({ ...ZERO_FLOPS });
