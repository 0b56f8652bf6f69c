// Constant fills, row-major copies (reshape, slice) and the sum over broadcast leading dims.

import { numel } from "../../ir/ir.js";
import type { KernelTemplate } from "../../codegen/template.js";
import { f32Literal } from "../../codegen/wgsl.js";
import { perItem } from "../../codegen/kernels/backward/common.js";

export const fillTemplate: KernelTemplate = {
  operandNames: () => [],
  render(ctx) {
    const value = f32Literal(ctx.node.attrs.value as number);
    return perItem(
      numel(ctx.node.type.shape),
      {},
      "",
      `  ${ctx.output}[item] = ${ctx.finish("item", value)};`,
    );
  },
};

export const reshapeTemplate: KernelTemplate = {
  operandNames: () => ["x"],
  render(ctx) {
    return perItem(
      numel(ctx.node.type.shape),
      {},
      "",
      `  ${ctx.output}[item] = ${ctx.finish("item", `${ctx.operand(0)}[item]`)};`,
    );
  },
};

export const sliceTemplate: KernelTemplate = {
  operandNames: () => ["packed"],
  render(ctx) {
    const count = numel(ctx.node.type.shape);
    const start = (ctx.node.attrs.index as number) * count;
    return perItem(
      count,
      { START: start },
      "",
      `  ${ctx.output}[item] = ${ctx.finish("item", `${ctx.operand(0)}[START + item]`)};`,
    );
  },
};

/** one invocation per kept element, summing down the leading rows in order (deterministic) */
export const reduceLeadingTemplate: KernelTemplate = {
  operandNames: () => ["x"],
  render(ctx) {
    const inner = numel(ctx.node.type.shape);
    const total = numel(ctx.graph.nodes[ctx.node.inputs[0]].type.shape);
    const body = `  var sum = 0.0;
  for (var row = 0u; row < ROWS; row++) { sum += ${ctx.operand(0)}[row * INNER + item]; }
  ${ctx.output}[item] = ${ctx.finish("item", "sum")};`;
    return perItem(inner, { INNER: inner, ROWS: total / inner }, "", body);
  },
};
