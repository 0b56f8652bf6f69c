// sinkhorn_grad: one invocation per matrix walks the normalisation steps backwards. Rather than
// keep 2·iterations iterates per matrix, it recomputes each step's output from x (O(steps²·n²),
// small for mHC's n and iteration counts). The softmax of a step's input is exp of its output,
// since the output is the input minus the line's log sum exp.

import type { KernelTemplate } from "../../codegen/template.js";
import { LINEAR_WORKGROUP, SPREAD_BUILTINS } from "../../codegen/wgsl.js";
import { sinkhornPrelude, sinkhornWorkgroups } from "./kernel.js";

export const sinkhornGradTemplate: KernelTemplate = {
  operandNames: () => ["x", "dy"],
  render(ctx) {
    const { node } = ctx;
    const dy = ctx.operand(1);
    const code = `${sinkhornPrelude(node, ctx.operand(0))}

// g -= softmax_line(input) * sum_line(g), with the softmax read off the step's output l
fn lines_backward(l: ptr<function, array<f32, N2>>, g: ptr<function, array<f32, N2>>, line_stride: u32, step: u32) {
  for (var line = 0u; line < N; line = line + 1u) {
    let start = line * line_stride;
    var sum = 0.0;
    for (var k = 0u; k < N; k = k + 1u) { sum = sum + (*g)[start + k * step]; }
    for (var k = 0u; k < N; k = k + 1u) {
      let at = start + k * step;
      (*g)[at] = (*g)[at] - exp((*l)[at]) * sum;
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(${SPREAD_BUILTINS}) {
  let matrix = ${LINEAR_WORKGROUP} * WORKGROUP_SIZE + lane;
  if (matrix >= MATRICES) { return; }
  let base = matrix * N2;
  var l: array<f32, N2>;
  var g: array<f32, N2>;
  run_steps(&l, base, STEPS);
  for (var k = 0u; k < N2; k = k + 1u) { g[k] = ${dy}[base + k] * exp(l[k]); }
  // s counts the steps still to undo; l holds the output of step s - 1
  for (var s = STEPS; s > 0u; s = s - 1u) {
    if (s < STEPS) { run_steps(&l, base, s); }
    if ((s - 1u) % 2u == 0u) { lines_backward(&l, &g, 1u, N); } else { lines_backward(&l, &g, N, 1u); }
  }
  for (var k = 0u; k < N2; k = k + 1u) {
    ${ctx.output}[base + k] = ${ctx.finish("base + k", "g[k]")};
  }
}`;
    return { code, workgroups: sinkhornWorkgroups(node) };
  },
};
