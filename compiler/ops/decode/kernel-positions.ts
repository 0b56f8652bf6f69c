// The decoding versions of learned positions and rotary positions: one invocation per element (or
// rotated pair) of the single decoded position, which the kernel reads from its i32[1] operand.

import { numel } from "../../ir/ir.js";
import type { KernelTemplate } from "../../codegen/template.js";
import {
  LINEAR_WORKGROUP,
  SPREAD_BUILTINS,
  f32Literal,
  spreadWorkgroups,
  u32Constants,
} from "../../codegen/wgsl.js";

import { rotatePair } from "../rope/kernel.js";

const WORKGROUP_SIZE = 256;

/** WGSL: the decoded position as u32 (a negative one reads as 0) */
function positionExpression(operand: string): string {
  return `u32(max(${operand}[0], 0))`;
}

export const addPositionAtTemplate: KernelTemplate = {
  operandNames: () => ["x", "positions", "position"],
  render(ctx) {
    const shape = ctx.node.type.shape;
    const count = numel(shape);
    const context = ctx.graph.nodes[ctx.node.inputs[1]].type.shape[0];
    const code = `${u32Constants({ COUNT: count, DIM: shape[2], CONTEXT: context, WORKGROUP_SIZE })}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(${SPREAD_BUILTINS}) {
  let i = ${LINEAR_WORKGROUP} * WORKGROUP_SIZE + lane;
  if (i >= COUNT) { return; }
  let t = min(${positionExpression(ctx.operand(2))}, CONTEXT - 1u);
  ${ctx.output}[i] = ${ctx.finish("i", `${ctx.operand(0)}[i] + ${ctx.operand(1)}[t * DIM + i % DIM]`)};
}`;
    return { code, workgroups: spreadWorkgroups(count, WORKGROUP_SIZE) };
  },
};

export const ropeAtTemplate: KernelTemplate = {
  operandNames: () => ["x", "position"],
  render(ctx) {
    const { node } = ctx;
    const headDim = node.attrs.head_dim as number;
    const pairs = numel(node.type.shape) / 2;
    const x = ctx.operand(0);
    const code = `${u32Constants({ PAIRS: pairs, HEAD_DIM: headDim, HALF: headDim / 2, WORKGROUP_SIZE })}
const LOG_THETA: f32 = ${f32Literal(Math.log(node.attrs.theta as number))};

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(${SPREAD_BUILTINS}) {
  let pair = ${LINEAR_WORKGROUP} * WORKGROUP_SIZE + lane;
  if (pair >= PAIRS) { return; }
${rotatePair(ctx, x, positionExpression(ctx.operand(1)), "b * HEADS + head")}
}`;
    return { code, workgroups: spreadWorkgroups(pairs, WORKGROUP_SIZE) };
  },
};
