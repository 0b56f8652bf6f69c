// AttnRes depth aggregation in one kernel: a workgroup per token reads each source row once into
// registers, sums (|s|^2, query·gain·s) across the workgroup to get the source's logit, and folds
// the row into the output with an online softmax over depth (or a sigmoid weight). The variants
// (variants.ts) give a workgroup several tokens, one segment of invocations each.

import { numel } from "../../ir/ir.js";
import { rowsOf } from "../../ir/ops.js";
import { SIGMOID_HELPER } from "../elementwise/wgsl.js";
import type { KernelTemplate } from "../../codegen/template.js";
import {
  LINEAR_WORKGROUP,
  SPREAD_BUILTINS,
  ceilDiv,
  f32Literal,
  segmentSumHelper,
  spreadWorkgroups,
  u32Constants,
  workgroupSumHelper,
} from "../../codegen/wgsl.js";
import { sourceReader, stackedReader } from "./sources.js";
import {
  ATTNRES_DEFAULT,
  ATTNRES_TOKENS,
  attnresLanes,
  attnresVariants,
  type AttnresVariant,
} from "./variants.js";

/** the entry point's head and first lines for TOKENS rows per workgroup, LANES invocations each */
const SEGMENTED_ENTRY = `@compute @workgroup_size(LANES * TOKENS)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroup_count: vec3u, @builtin(local_invocation_index) invocation: u32) {
  let token = invocation / LANES;
  let lane = invocation % LANES;
  let row = ${LINEAR_WORKGROUP} * TOKENS + token;
  // a row past the end (in the last workgroup) repeats the last row's work, which its invocations
  // must do for the barriers, and stores nothing
  let base = min(row, ROWS - 1u) * DIM;`;

const SINGLE_ENTRY = `@compute @workgroup_size(WORKGROUP_SIZE)
fn main(${SPREAD_BUILTINS}) {
  let row = ${LINEAR_WORKGROUP};
  if (row >= ROWS) { return; }
  let base = row * DIM;`;

export const attnresTemplate: KernelTemplate = {
  operandNames(node) {
    const count = node.attrs.sources as number;
    const names = Array.from({ length: count }, (_, i) => `source${i}`);
    names.push("query");
    if (node.attrs.key_norm === true) names.push("key_gain");
    return names;
  },
  render(ctx) {
    const { node, graph } = ctx;
    const count = node.attrs.sources as number;
    const keyNorm = node.attrs.key_norm === true;
    const softmax = node.attrs.score === "softmax";
    const shape = node.type.shape;
    const dim = shape[shape.length - 1];
    const rows = rowsOf(shape);
    // a tree sum per source: fewer, fuller invocations keep the number of barriers down
    const size = attnresLanes(dim);
    const tokens = ATTNRES_TOKENS[(ctx.variant ?? ATTNRES_DEFAULT) as AttnresVariant];
    const segmented = tokens > 1;
    const lanes = segmented ? "LANES" : "WORKGROUP_SIZE";
    const query = ctx.operand(count);
    // the query and gain repeat every D elements (one vector), every H*D (one per depth-attention
    // head: rows are (token, head) pairs) or never (a projected, per-token query)
    const querySize = numel(graph.nodes[node.inputs[count]].type.shape);
    const gainSize = keyNorm ? numel(graph.nodes[node.inputs[count + 1]].type.shape) : dim;
    const queryAt = `${query}[base % QUERY_SIZE + j]`;
    const keyWeight = keyNorm ? `${queryAt} * ${ctx.operand(count + 1)}[base % GAIN_SIZE + j]` : queryAt;
    const logit = keyNorm ? "totals.y * inverseSqrt(totals.x / f32(DIM) + EPS)" : "totals.y";
    const stacked = ctx.stackedSources;
    const fold = softmax
      ? `    let new_max = max(running_max, logit);
    let correction = exp(running_max - new_max);
    let weight = exp(logit - new_max);
    running_sum = running_sum * correction + weight;
    running_max = new_max;
    for (var k = 0u; k < PER_LANE; k = k + 1u) { acc[k] = acc[k] * correction + weight * row_values[k]; }`
      : `    let weight = sigmoid(logit);
    for (var k = 0u; k < PER_LANE; k = k + 1u) { acc[k] = acc[k] + weight * row_values[k]; }`;
    // stacked sources: how many there are is the stack binding's length over the stride, so the
    // module does not depend on the layer (compiler/passes/stacks.ts)
    const constants = {
      ROWS: rows,
      DIM: dim,
      ...(stacked ? { STRIDE: stacked.stride } : { SOURCES: count }),
      QUERY_SIZE: querySize,
      GAIN_SIZE: gainSize,
    };
    const reader = stacked
      ? stackedReader(stacked.stack, stacked.extra)
      : sourceReader(Array.from({ length: count }, (_, i) => ctx.operand(i)));
    const sourceCount = stacked
      ? `  let source_count = arrayLength(&${stacked.stack}) / STRIDE${stacked.extra ? " + 1u" : ""};`
      : "  let source_count = SOURCES;";
    const layout: Record<string, number> = segmented
      ? { LANES: size, TOKENS: tokens }
      : { WORKGROUP_SIZE: size };
    const code = `${u32Constants({ ...constants, ...layout, PER_LANE: ceilDiv(dim, size) })}
const EPS: f32 = ${f32Literal(node.attrs.eps as number)};

${segmented ? segmentSumHelper("vec2f", size, tokens) : workgroupSumHelper("vec2f", size)}

${reader}
${softmax ? "" : `\n${SIGMOID_HELPER}\n`}
${segmented ? SEGMENTED_ENTRY : SINGLE_ENTRY}
  var acc: array<f32, PER_LANE>;
  var running_max = -3.0e38;
  var running_sum = ${softmax ? "0.0" : "1.0"};
${sourceCount}
  for (var i = 0u; i < source_count; i = i + 1u) {
    var row_values: array<f32, PER_LANE>;
    var partial = vec2f(0.0); // (sum of squares, key-weighted dot with the query)
    for (var k = 0u; k < PER_LANE; k = k + 1u) {
      let j = lane + k * ${lanes};
      if (j < DIM) {
        let value = source_at(i, base + j);
        row_values[k] = value;
        partial = partial + vec2f(value * value, ${keyWeight} * value);
      }
    }
    let totals = ${segmented ? "segment_sum(partial, lane, token)" : "workgroup_sum(partial, lane)"};
    let logit = ${logit};
${fold}
  }
  for (var k = 0u; k < PER_LANE; k = k + 1u) {
    let j = lane + k * ${lanes};
    if (j < DIM${segmented ? " && row < ROWS" : ""}) {
      ${ctx.output}[base + j] = ${ctx.finish("base + j", "acc[k] / running_sum")};
    }
  }
}`;
    return { code, workgroups: spreadWorkgroups(rows, tokens) };
  },
  variants: attnresVariants,
};
