// One invocation per element: x plus the learned position row of its time step.

import { numel } from "../../ir/ir.js";
import type { KernelTemplate } from "../../codegen/template.js";
import {
  LINEAR_WORKGROUP,
  SPREAD_BUILTINS,
  coordinateOf,
  spreadWorkgroups,
  u32Constants,
} from "../../codegen/wgsl.js";

const WORKGROUP_SIZE = 256;

export const addPositionsTemplate: KernelTemplate = {
  operandNames: () => ["x", "positions"],
  render(ctx) {
    const shape = ctx.node.type.shape;
    const count = numel(shape);
    const code = `${u32Constants({ COUNT: count, DIM: shape[2], WORKGROUP_SIZE })}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(${SPREAD_BUILTINS}) {
  let i = ${LINEAR_WORKGROUP} * WORKGROUP_SIZE + lane;
  if (i >= COUNT) { return; }
  let t = ${coordinateOf("i", shape, 1)};
  ${ctx.output}[i] = ${ctx.finish("i", `${ctx.operand(0)}[i] + ${ctx.operand(1)}[t * DIM + i % DIM]`)};
}`;
    return { code, workgroups: spreadWorkgroups(count, WORKGROUP_SIZE) };
  },
};
