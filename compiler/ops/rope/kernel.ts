// One invocation per rotated pair (b, t, head, i < head_dim/2); both halves go through the epilogue.

import { numel } from "../../ir/ir.js";
import type { KernelTemplate, TemplateContext } from "../../codegen/template.js";
import {
  LINEAR_WORKGROUP,
  SPREAD_BUILTINS,
  f32Literal,
  spreadWorkgroups,
  u32Constants,
} from "../../codegen/wgsl.js";

const WORKGROUP_SIZE = 256;

/**
 * the body of a rope kernel once `pair` (a rotated pair's index) is known: rotates the pair
 * (i, i + HALF) of head row `head_row` by the angle of position `position` (a WGSL expression
 * that may use head_row), and hands both halves to the epilogue. Shared with decoding's rope_at,
 * so decoding rotates exactly as training did.
 */
export function rotatePair(ctx: TemplateContext, x: string, position: string, headRow: string): string {
  return `  let i = pair % HALF;
  let head_row = pair / HALF; // ${headRow}
  let t = ${position};
  let first_at = head_row * HEAD_DIM + i;
  let second_at = first_at + HALF;
  // theta^(-2i/head_dim) via exp/log: pow() of a negative exponent is not defined for every driver
  let angle = f32(t) * exp(-2.0 * f32(i) / f32(HEAD_DIM) * LOG_THETA);
  let c = cos(angle);
  let s = sin(angle);
  let first = ${x}[first_at];
  let second = ${x}[second_at];
  ${ctx.output}[first_at] = ${ctx.finish("first_at", "first * c - second * s")};
  ${ctx.output}[second_at] = ${ctx.finish("second_at", "first * s + second * c")};`;
}

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
${rotatePair(ctx, x, "(head_row / HEADS) % SEQ", "(b * SEQ + t) * HEADS + head")}
}`;
    return { code, workgroups: spreadWorkgroups(pairs, WORKGROUP_SIZE) };
  },
};
