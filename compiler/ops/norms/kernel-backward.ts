// Norm backward, one invocation per row: a reduction over D for the row's statistics, then D
// writes: dx, or the row's terms of dgain (the graph sums those over rows with reduce_leading,
// in order, so results do not depend on scheduling).

import type { Node } from "../../ir/ir.js";
import { numel } from "../../ir/ir.js";
import type { KernelTemplate } from "../../codegen/template.js";
import { f32Literal } from "../../codegen/wgsl.js";
import { perItem } from "../../codegen/kernels/backward/common.js";

function rowsAndWidth(node: Node): { rows: number; width: number } {
  const width = node.type.shape[node.type.shape.length - 1];
  return { rows: numel(node.type.shape) / width, width };
}

const EPS = (node: Node) => `const EPS: f32 = ${f32Literal(node.attrs.eps as number)};`;

export const rmsnormGradXTemplate: KernelTemplate = {
  operandNames: () => ["x", "gain", "dy"],
  render(ctx) {
    const { rows, width } = rowsAndWidth(ctx.node);
    const [x, g, dy] = [0, 1, 2].map((i) => ctx.operand(i));
    const body = `  let base = item * WIDTH;
  var squares = 0.0;
  var dot = 0.0;
  for (var j = 0u; j < WIDTH; j++) {
    let v = ${x}[base + j];
    squares += v * v;
    dot += ${dy}[base + j] * ${g}[j] * v;
  }
  let r = inverseSqrt(squares / f32(WIDTH) + EPS);
  let correction = r * r * r * dot / f32(WIDTH);
  for (var j = 0u; j < WIDTH; j++) {
    let at = base + j;
    ${ctx.output}[at] = ${ctx.finish("at", `r * ${dy}[at] * ${g}[j] - correction * ${x}[at]`)};
  }`;
    return perItem(rows, { WIDTH: width }, EPS(ctx.node), body);
  },
};

export const rmsnormGradGainTemplate: KernelTemplate = {
  operandNames: () => ["x", "dy"],
  render(ctx) {
    const { rows, width } = rowsAndWidth(ctx.node);
    const [x, dy] = [ctx.operand(0), ctx.operand(1)];
    const body = `  let base = item * WIDTH;
  var squares = 0.0;
  for (var j = 0u; j < WIDTH; j++) { let v = ${x}[base + j]; squares += v * v; }
  let r = inverseSqrt(squares / f32(WIDTH) + EPS);
  for (var j = 0u; j < WIDTH; j++) {
    let at = base + j;
    ${ctx.output}[at] = ${ctx.finish("at", `${dy}[at] * ${x}[at] * r`)};
  }`;
    return perItem(rows, { WIDTH: width }, EPS(ctx.node), body);
  },
};

const ROW_STATS = `fn row_stats(base: u32) -> vec2f {
  var mean = 0.0;
  for (var j = 0u; j < WIDTH; j++) { mean += X[base + j]; }
  mean /= f32(WIDTH);
  var variance = 0.0;
  for (var j = 0u; j < WIDTH; j++) { let c = X[base + j] - mean; variance += c * c; }
  return vec2f(mean, inverseSqrt(variance / f32(WIDTH) + EPS));
}`;

export const layernormGradXTemplate: KernelTemplate = {
  operandNames: () => ["x", "gain", "dy"],
  render(ctx) {
    const { rows, width } = rowsAndWidth(ctx.node);
    const [x, g, dy] = [0, 1, 2].map((i) => ctx.operand(i));
    const body = `  let base = item * WIDTH;
  let stats = row_stats(base);
  var mean_u = 0.0;
  var mean_u_xh = 0.0;
  for (var j = 0u; j < WIDTH; j++) {
    let u = ${dy}[base + j] * ${g}[j];
    mean_u += u;
    mean_u_xh += u * (${x}[base + j] - stats.x) * stats.y;
  }
  mean_u /= f32(WIDTH);
  mean_u_xh /= f32(WIDTH);
  for (var j = 0u; j < WIDTH; j++) {
    let at = base + j;
    let xh = (${x}[at] - stats.x) * stats.y;
    ${ctx.output}[at] = ${ctx.finish("at", `stats.y * (${dy}[at] * ${g}[j] - mean_u - xh * mean_u_xh)`)};
  }`;
    return perItem(rows, { WIDTH: width }, `${EPS(ctx.node)}\n${ROW_STATS.replaceAll("X[", `${x}[`)}`, body);
  },
};

export const layernormGradGainTemplate: KernelTemplate = {
  operandNames: () => ["x", "dy"],
  render(ctx) {
    const { rows, width } = rowsAndWidth(ctx.node);
    const [x, dy] = [ctx.operand(0), ctx.operand(1)];
    const body = `  let base = item * WIDTH;
  let stats = row_stats(base);
  for (var j = 0u; j < WIDTH; j++) {
    let at = base + j;
    ${ctx.output}[at] = ${ctx.finish("at", `${dy}[at] * (${x}[at] - stats.x) * stats.y`)};
  }`;
    return perItem(rows, { WIDTH: width }, `${EPS(ctx.node)}\n${ROW_STATS.replaceAll("X[", `${x}[`)}`, body);
  },
};
