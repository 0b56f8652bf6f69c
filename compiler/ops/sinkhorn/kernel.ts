// Sinkhorn forward: one invocation per matrix, which lives in a private array for all iterations;
// n is small (mHC: 4), so a matrix per invocation beats spreading one over a workgroup.

import type { Node } from "../../ir/ir.js";
import { numel } from "../../ir/ir.js";
import type { KernelTemplate } from "../../codegen/template.js";
import { LINEAR_WORKGROUP, SPREAD_BUILTINS, spreadWorkgroups, u32Constants } from "../../codegen/wgsl.js";

const WORKGROUP_SIZE = 64;

const matrixCount = (node: Node): number => {
  const n = node.type.shape[node.type.shape.length - 1];
  return numel(node.type.shape) / (n * n);
};

/** one invocation per matrix, WORKGROUP_SIZE to a workgroup */
export const sinkhornWorkgroups = (node: Node): [number, number, number] =>
  spreadWorkgroups(matrixCount(node), WORKGROUP_SIZE);

/**
 * Constants and helpers both kernels share. run_steps(m, base, steps) loads the matrix of `x` at
 * `base` into m and applies the first `steps` normalisations (even steps: columns, odd: rows).
 */
export function sinkhornPrelude(node: Node, x: string): string {
  const n = node.type.shape[node.type.shape.length - 1];
  const iterations = node.attrs.iterations as number;
  return `${u32Constants({ N: n, N2: n * n, MATRICES: matrixCount(node), STEPS: 2 * iterations, WORKGROUP_SIZE })}

// the log sum exp of the line from start in steps of step, computed past its peak
fn line_lse(m: ptr<function, array<f32, N2>>, start: u32, step: u32) -> f32 {
  var peak = (*m)[start];
  for (var k = 1u; k < N; k = k + 1u) { peak = max(peak, (*m)[start + k * step]); }
  var total = 0.0;
  for (var k = 0u; k < N; k = k + 1u) { total = total + exp((*m)[start + k * step] - peak); }
  return peak + log(total);
}

// subtracts from each line its log sum exp; a line starts at line * line_stride and steps by step
fn normalise_lines(m: ptr<function, array<f32, N2>>, line_stride: u32, step: u32) {
  for (var line = 0u; line < N; line = line + 1u) {
    let start = line * line_stride;
    let lse = line_lse(m, start, step);
    for (var k = 0u; k < N; k = k + 1u) { (*m)[start + k * step] = (*m)[start + k * step] - lse; }
  }
}

fn run_steps(m: ptr<function, array<f32, N2>>, base: u32, steps: u32) {
  for (var k = 0u; k < N2; k = k + 1u) { (*m)[k] = ${x}[base + k]; }
  for (var s = 0u; s < steps; s = s + 1u) {
    if (s % 2u == 0u) { normalise_lines(m, 1u, N); } else { normalise_lines(m, N, 1u); }
  }
}`;
}

export const sinkhornTemplate: KernelTemplate = {
  operandNames: () => ["x"],
  render(ctx) {
    const { node } = ctx;
    const code = `${sinkhornPrelude(node, ctx.operand(0))}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(${SPREAD_BUILTINS}) {
  let matrix = ${LINEAR_WORKGROUP} * WORKGROUP_SIZE + lane;
  if (matrix >= MATRICES) { return; }
  let base = matrix * N2;
  var m: array<f32, N2>;
  run_steps(&m, base, STEPS);
  for (var k = 0u; k < N2; k = k + 1u) {
    ${ctx.output}[base + k] = ${ctx.finish("base + k", "exp(m[k])")};
  }
}`;
    return { code, workgroups: sinkhornWorkgroups(node) };
  },
};
