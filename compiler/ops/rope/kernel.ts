// One invocation per rotated pair (b, t, head, i < head_dim/2); both halves go through the epilogue.

import { numel } from "../../ir/ir.js";
import type { KernelTemplate } from "../../codegen/template.js";
import {
  LINEAR_WORKGROUP,
  SPREAD_BUILTINS,
  f32Literal,
  spreadWorkgroups,
  u32Constants,
} from "../../codegen/wgsl.js";

const WORKGROUP_SIZE = 256;

export const ropeTemplate: KernelTemplate = {
  operandNames: () => ["x"],
  render(ctx) {
    const { node } = ctx;
    const [, seq] = node.type.shape;
    const headDim = node.attrs.head_dim as number;
    const heads = node.attrs.heads as number;
    const pairs = numel(node.type.shape) / 2;
    const x = ctx.operand(0);
    const code = `${u32Constants({ PAIRS: pairs, SEQ: seq, HEADS: heads, HEAD_DIM: headDim, HALF: headDim / 2, WORKGROUP_SIZE })}
const LOG_THETA: f32 = ${f32Literal(Math.log(node.attrs.theta as number))};

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(${SPREAD_BUILTINS}) {
  let pair = ${LINEAR_WORKGROUP} * WORKGROUP_SIZE + lane;
  if (pair >= PAIRS) { return; }
  let i = pair % HALF;
  let head_row = pair / HALF; // (b * SEQ + t) * HEADS + head
  let t = (head_row / HEADS) % SEQ;
  let first_at = head_row * HEAD_DIM + i;
  let second_at = first_at + HALF;
  // theta^(-2i/head_dim) via exp/log: pow() of a negative exponent is not defined for every driver
  let angle = f32(t) * exp(-2.0 * f32(i) / f32(HEAD_DIM) * LOG_THETA);
  let c = cos(angle);
  let s = sin(angle);
  let first = ${x}[first_at];
  let second = ${x}[second_at];
  ${ctx.output}[first_at] = ${ctx.finish("first_at", "first * c - second * s")};
  ${ctx.output}[second_at] = ${ctx.finish("second_at", "first * s + second * c")};
}`;
    return { code, workgroups: spreadWorkgroups(pairs, WORKGROUP_SIZE) };
  },
};
