// One invocation per output element for every stream op: the stream counts are small (n <= 16),
// so each element loops over the streams (or, for stream_gram, the features) it depends on.
// Static weights are read at stride 0, per-token weights at stride (their size per token).

import { numel } from "../../ir/ir.js";
import type { KernelTemplate, TemplateContext } from "../../codegen/template.js";
import { perItem } from "../../codegen/kernels/backward/common.js";

function operandShape(ctx: TemplateContext, i: number): number[] {
  return ctx.graph.nodes[ctx.node.inputs[i]].type.shape;
}

/** how far apart two tokens' weights lie: 0 when every token shares them */
function tokenStride(ctx: TemplateContext, i: number, perToken: number): number {
  return numel(operandShape(ctx, i)) === perToken ? 0 : perToken;
}

function streamsAndWidth(shape: number[]): { n: number; d: number } {
  return { n: shape[shape.length - 2], d: shape[shape.length - 1] };
}

export const streamExpandTemplate: KernelTemplate = {
  operandNames: () => ["x"],
  render(ctx) {
    const { n, d } = streamsAndWidth(ctx.node.type.shape);
    const body = `  let token = item / (N * D);
  ${ctx.output}[item] = ${ctx.finish("item", `${ctx.operand(0)}[token * D + item % D]`)};`;
    return perItem(numel(ctx.node.type.shape), { N: n, D: d }, "", body);
  },
};

export const streamReadTemplate: KernelTemplate = {
  operandNames: (node) => (node.inputs.length === 2 ? ["state", "weights"] : ["state"]),
  render(ctx) {
    const { n, d } = streamsAndWidth(operandShape(ctx, 0));
    const weighted = ctx.node.inputs.length === 2;
    const weight = weighted ? `${ctx.operand(1)}[token * W_STRIDE + k]` : "1.0";
    const body = `  let token = item / D;
  let feature = item % D;
  var sum = 0.0;
  for (var k = 0u; k < N; k++) { sum += ${weight} * ${ctx.operand(0)}[(token * N + k) * D + feature]; }
  ${ctx.output}[item] = ${ctx.finish("item", "sum")};`;
    const stride = weighted ? tokenStride(ctx, 1, n) : 0;
    return perItem(numel(ctx.node.type.shape), { N: n, D: d, W_STRIDE: stride }, "", body);
  },
};

export const streamWriteTemplate: KernelTemplate = {
  operandNames: () => ["state", "mixing", "out_weights", "y"],
  render(ctx) {
    const { n, d } = streamsAndWidth(operandShape(ctx, 0));
    const [x, r, b, y] = [0, 1, 2, 3].map((i) => ctx.operand(i));
    const body = `  let token = item / (N * D);
  let to = (item / D) % N;
  let feature = item % D;
  var sum = ${b}[token * B_STRIDE + to] * ${y}[token * D + feature];
  for (var k = 0u; k < N; k++) {
    sum += ${r}[token * R_STRIDE + k * N + to] * ${x}[(token * N + k) * D + feature];
  }
  ${ctx.output}[item] = ${ctx.finish("item", "sum")};`;
    const constants = { N: n, D: d, R_STRIDE: tokenStride(ctx, 1, n * n), B_STRIDE: tokenStride(ctx, 2, n) };
    return perItem(numel(ctx.node.type.shape), constants, "", body);
  },
};

export const streamMixTemplate: KernelTemplate = {
  operandNames: () => ["state", "weights"],
  render(ctx) {
    const { n, d } = streamsAndWidth(operandShape(ctx, 0));
    const m = ctx.node.type.shape[ctx.node.type.shape.length - 2];
    const index = ctx.node.attrs.transpose === true ? "to * N + k" : "k * M + to";
    const body = `  let token = item / (M * D);
  let to = (item / D) % M;
  let feature = item % D;
  var sum = 0.0;
  for (var k = 0u; k < N; k++) {
    sum += ${ctx.operand(1)}[token * W_STRIDE + ${index}] * ${ctx.operand(0)}[(token * N + k) * D + feature];
  }
  ${ctx.output}[item] = ${ctx.finish("item", "sum")};`;
    const constants = { N: n, M: m, D: d, W_STRIDE: tokenStride(ctx, 1, n * m) };
    return perItem(numel(ctx.node.type.shape), constants, "", body);
  },
};

export const streamGramTemplate: KernelTemplate = {
  operandNames: () => ["lhs", "rhs"],
  render(ctx) {
    const { n, d } = streamsAndWidth(operandShape(ctx, 0));
    const m = operandShape(ctx, 1).at(-2)!;
    const body = `  let token = item / (N * M);
  let k = (item / M) % N;
  let to = item % M;
  var dot = 0.0;
  for (var j = 0u; j < D; j++) {
    dot += ${ctx.operand(0)}[(token * N + k) * D + j] * ${ctx.operand(1)}[(token * M + to) * D + j];
  }
  ${ctx.output}[item] = ${ctx.finish("item", "dot")};`;
    return perItem(numel(ctx.node.type.shape), { N: n, M: m, D: d }, "", body);
  },
};
