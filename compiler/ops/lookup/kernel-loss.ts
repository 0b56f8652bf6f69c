// Mean cross-entropy in one workgroup: each invocation takes whole rows (an online logsumexp over
// the vocabulary), then a tree sum gives the mean. One kernel, deterministic order.

import { rowsOf } from "../../ir/ops.js";
import type { KernelTemplate } from "../../codegen/template.js";
import { u32Constants, workgroupSumHelper } from "../../codegen/wgsl.js";

const WORKGROUP_SIZE = 256;

export const crossEntropyTemplate: KernelTemplate = {
  operandNames: () => ["logits", "targets"],
  render(ctx) {
    const shape = ctx.graph.nodes[ctx.node.inputs[0]].type.shape;
    const vocab = shape[shape.length - 1];
    const rows = rowsOf(shape);
    const [logits, targets] = [ctx.operand(0), ctx.operand(1)];
    const code = `${u32Constants({ ROWS: rows, VOCAB: vocab, WORKGROUP_SIZE })}

${workgroupSumHelper("f32", WORKGROUP_SIZE)}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lane: u32) {
  var total = 0.0;
  for (var r = lane; r < ROWS; r = r + WORKGROUP_SIZE) {
    let base = r * VOCAB;
    var running_max = -3.0e38;
    var running_sum = 0.0;
    for (var c = 0u; c < VOCAB; c = c + 1u) {
      let x = ${logits}[base + c];
      let new_max = max(running_max, x);
      running_sum = running_sum * exp(running_max - new_max) + exp(x - new_max);
      running_max = new_max;
    }
    let target_id = ${targets}[r];
    // out-of-range targets read class 0 rather than out of bounds (the CPU reference rejects them)
    let target_column = select(0u, u32(target_id), target_id >= 0 && u32(target_id) < VOCAB);
    total = total + running_max + log(running_sum) - ${logits}[base + target_column];
  }
  let sum = workgroup_sum(total, lane);
  if (lane == 0u) {
    ${ctx.output}[0] = ${ctx.finish("0u", "sum / f32(ROWS)")};
  }
}`;
    return { code, workgroups: [1, 1, 1] };
  },
};
