// One invocation per output element: a row gather from the table.

import { numel } from "../../ir/ir.js";
import type { KernelTemplate } from "../../codegen/template.js";
import { LINEAR_WORKGROUP, SPREAD_BUILTINS, spreadWorkgroups, u32Constants } from "../../codegen/wgsl.js";

const WORKGROUP_SIZE = 256;

export const embeddingTemplate: KernelTemplate = {
  operandNames: () => ["table", "ids"],
  render(ctx) {
    const [vocab, dim] = ctx.graph.nodes[ctx.node.inputs[0]].type.shape;
    const count = numel(ctx.node.type.shape);
    const table = ctx.operand(0);
    const ids = ctx.operand(1);
    const code = `${u32Constants({ COUNT: count, VOCAB: vocab, DIM: dim, WORKGROUP_SIZE })}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(${SPREAD_BUILTINS}) {
  let i = ${LINEAR_WORKGROUP} * WORKGROUP_SIZE + lane;
  if (i >= COUNT) { return; }
  let id = ${ids}[i / DIM];
  // the catalog says out-of-range ids read row 0 on the GPU rather than out of bounds
  let row = select(0u, u32(id), id >= 0 && u32(id) < VOCAB);
  ${ctx.output}[i] = ${ctx.finish("i", `${table}[row * DIM + i % DIM]`)};
}`;
    return { code, workgroups: spreadWorkgroups(count, WORKGROUP_SIZE) };
  },
};
