// One invocation per element: an elementwise op whose producer could not take it as an epilogue.

import { numel } from "../../ir/ir.js";
import { ELEMENTWISE_WGSL } from "./wgsl.js";
import type { KernelTemplate } from "../../codegen/template.js";
import {
  LINEAR_WORKGROUP,
  SPREAD_BUILTINS,
  spreadWorkgroups,
  u32Constants,
  u32Literal,
} from "../../codegen/wgsl.js";

const WORKGROUP_SIZE = 256;

export const elementwiseTemplate: KernelTemplate = {
  operandNames: (node) => (node.inputs.length === 1 ? ["x"] : ["a", "b"]),
  render(ctx) {
    const { node, graph } = ctx;
    const count = numel(node.type.shape);
    // an operand smaller than the result is a broadcast suffix (add), so it repeats every numel(operand)
    const operands = node.inputs.map((value, i) => {
      const size = numel(graph.nodes[value].type.shape);
      return size === count ? `${ctx.operand(i)}[i]` : `${ctx.operand(i)}[i % ${u32Literal(size)}]`;
    });
    const code = `${u32Constants({ COUNT: count, WORKGROUP_SIZE })}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(${SPREAD_BUILTINS}) {
  let i = ${LINEAR_WORKGROUP} * WORKGROUP_SIZE + lane;
  if (i >= COUNT) { return; }
  ${ctx.output}[i] = ${ctx.finish("i", ELEMENTWISE_WGSL[node.op].expression(operands, node))};
}`;
    return { code, workgroups: spreadWorkgroups(count, WORKGROUP_SIZE) };
  },
};
