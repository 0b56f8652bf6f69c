// Input-independent AttnRes: the depth weights come from a learned logit vector, so each
// invocation mixes one element across all sources.

import { numel } from "../../ir/ir.js";
import { SIGMOID_HELPER } from "../elementwise/wgsl.js";
import type { KernelTemplate } from "../../codegen/template.js";
import { LINEAR_WORKGROUP, SPREAD_BUILTINS, spreadWorkgroups, u32Constants } from "../../codegen/wgsl.js";
import { sourceReader } from "./sources.js";

const WORKGROUP_SIZE = 256;

export const attnresStaticTemplate: KernelTemplate = {
  operandNames(node) {
    const count = node.attrs.sources as number;
    return [...Array.from({ length: count }, (_, i) => `source${i}`), "logits"];
  },
  render(ctx) {
    const { node } = ctx;
    const count = node.attrs.sources as number;
    const softmax = node.attrs.score === "softmax";
    const linear = node.attrs.score === "linear";
    const total = numel(node.type.shape);
    const logits = ctx.operand(count);
    const weights = softmax
      ? `  var max_logit = ${logits}[0];
  for (var i = 1u; i < SOURCES; i = i + 1u) { max_logit = max(max_logit, ${logits}[i]); }
  var sum = 0.0;
  var mixed = 0.0;
  for (var i = 0u; i < SOURCES; i = i + 1u) {
    let weight = exp(${logits}[i] - max_logit);
    sum = sum + weight;
    mixed = mixed + weight * source_at(i, at);
  }
  let value = mixed / sum;`
      : `  var value = 0.0;
  for (var i = 0u; i < SOURCES; i = i + 1u) { value = value + ${linear ? `${logits}[i]` : `sigmoid(${logits}[i])`} * source_at(i, at); }`;
    const code = `${u32Constants({ COUNT: total, SOURCES: count, WORKGROUP_SIZE })}

${sourceReader(Array.from({ length: count }, (_, i) => ctx.operand(i)))}
${softmax || linear ? "" : `\n${SIGMOID_HELPER}\n`}
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(${SPREAD_BUILTINS}) {
  let at = ${LINEAR_WORKGROUP} * WORKGROUP_SIZE + lane;
  if (at >= COUNT) { return; }
${weights}
  ${ctx.output}[at] = ${ctx.finish("at", "value")};
}`;
    return { code, workgroups: spreadWorkgroups(total, WORKGROUP_SIZE) };
  },
};
