// rope_grad: the forward rotation with the angle negated, one invocation per pair.

import { numel } from "../../ir/ir.js";
import type { KernelTemplate } from "../../codegen/template.js";
import { f32Literal } from "../../codegen/wgsl.js";
import { perItem } from "../../codegen/kernels/backward/common.js";

export const ropeGradTemplate: KernelTemplate = {
  operandNames: () => ["dy"],
  render(ctx) {
    const { node } = ctx;
    const headDim = node.attrs.head_dim as number;
    const dy = ctx.operand(0);
    const body = `  let i = item % HALF;
  let head_row = item / HALF;
  let t = (head_row / HEADS) % SEQ;
  let lo = head_row * HEAD_DIM + i;
  let hi = lo + HALF;
  let angle = f32(t) * exp(-2.0 * f32(i) / f32(HEAD_DIM) * LOG_THETA);
  let c = cos(angle);
  let s = sin(angle);
  let a = ${dy}[lo];
  let b = ${dy}[hi];
  ${ctx.output}[lo] = ${ctx.finish("lo", "a * c + b * s")};
  ${ctx.output}[hi] = ${ctx.finish("hi", "b * c - a * s")};`;
    return perItem(
      numel(node.type.shape) / 2,
      { SEQ: node.type.shape[1], HEADS: node.attrs.heads as number, HEAD_DIM: headDim, HALF: headDim / 2 },
      `const LOG_THETA: f32 = ${f32Literal(Math.log(node.attrs.theta as number))};`,
      body,
    );
  },
};
