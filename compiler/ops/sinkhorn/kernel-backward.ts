// sinkhorn_grad: one invocation per matrix walks the normalisation steps backwards. The softmax of a
// step's input is exp of its output, since the output is the input minus the line's log sum exp.
// The forward pass keeps each step's n log-sum-exps (2·iterations·n floats), so each step's input
// is its output plus them: O(steps·n²) in all. Where that record would not fit a private array
// (more than SHIFT_LIMIT floats: large n and many iterations), each step's output is recomputed
// from x instead, O(steps²·n²).

import type { KernelTemplate } from "../../codegen/template.js";
import { LINEAR_WORKGROUP, SPREAD_BUILTINS } from "../../codegen/wgsl.js";
import { sinkhornPrelude, sinkhornWorkgroups } from "./kernel.js";

/** floats of log-sum-exps a private array may hold: 4 KiB of WGSL's 8 KiB per function */
const SHIFT_LIMIT = 1024;

function stepsBackward(recorded: boolean): string {
  if (!recorded)
    return `  run_steps(&l, base, STEPS);
  for (var k = 0u; k < N2; k = k + 1u) { g[k] = DY_AT(base + k) * exp(l[k]); }
  // s counts the steps still to undo; l holds the output of step s - 1
  for (var s = STEPS; s > 0u; s = s - 1u) {
    if (s < STEPS) { run_steps(&l, base, s); }
    if ((s - 1u) % 2u == 0u) { lines_backward(&l, &g, 1u, N); } else { lines_backward(&l, &g, N, 1u); }
  }`;
  return `  var shifts: array<f32, SHIFTS>;
  for (var k = 0u; k < N2; k = k + 1u) { l[k] = X_AT(base + k); }
  for (var s = 0u; s < STEPS; s = s + 1u) {
    if (s % 2u == 0u) { record_lines(&l, &shifts, s * N, 1u, N); } else { record_lines(&l, &shifts, s * N, N, 1u); }
  }
  for (var k = 0u; k < N2; k = k + 1u) { g[k] = DY_AT(base + k) * exp(l[k]); }
  // s counts the steps still to undo; l holds the output of step s - 1, and adding back that
  // step's log-sum-exps gives its input
  for (var s = STEPS; s > 0u; s = s - 1u) {
    let column_step = (s - 1u) % 2u == 0u;
    if (column_step) { lines_backward(&l, &g, 1u, N); } else { lines_backward(&l, &g, N, 1u); }
    for (var k = 0u; k < N2; k = k + 1u) {
      let line = select(k / N, k % N, column_step);
      l[k] = l[k] + shifts[(s - 1u) * N + line];
    }
  }`;
}

export const sinkhornGradTemplate: KernelTemplate = {
  operandNames: () => ["x", "dy"],
  render(ctx) {
    const { node } = ctx;
    const dy = ctx.operand(1);
    const n = node.type.shape[node.type.shape.length - 1];
    const shifts = 2 * (node.attrs.iterations as number) * n;
    const recorded = shifts <= SHIFT_LIMIT;
    const body = stepsBackward(recorded)
      .replaceAll("DY_AT(base + k)", `${dy}[base + k]`)
      .replaceAll("X_AT(base + k)", `${ctx.operand(0)}[base + k]`);
    const code = `${sinkhornPrelude(node, ctx.operand(0))}
${
  recorded
    ? `const SHIFTS: u32 = ${shifts}u;

// normalise_lines, keeping line i's log sum exp in shifts[offset + i]
fn record_lines(m: ptr<function, array<f32, N2>>, shifts: ptr<function, array<f32, SHIFTS>>, offset: u32, line_stride: u32, step: u32) {
  for (var line = 0u; line < N; line = line + 1u) {
    let start = line * line_stride;
    let lse = line_lse(m, start, step);
    (*shifts)[offset + line] = lse;
    for (var k = 0u; k < N; k = k + 1u) { (*m)[start + k * step] = (*m)[start + k * step] - lse; }
  }
}
`
    : ""
}
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
${body}
  for (var k = 0u; k < N2; k = k + 1u) {
    ${ctx.output}[base + k] = ${ctx.finish("base + k", "g[k]")};
  }
}`;
    return { code, workgroups: sinkhornWorkgroups(node) };
  },
};
