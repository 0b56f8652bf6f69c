// RMSNorm and LayerNorm: one workgroup per row, statistics by a tree sum in workgroup memory.

import type { KernelTemplate } from "../../codegen/template.js";
import {
  LINEAR_WORKGROUP,
  SPREAD_BUILTINS,
  f32Literal,
  nextPowerOfTwo,
  spreadWorkgroups,
  u32Constants,
  workgroupSumHelper,
} from "../../codegen/wgsl.js";
import { rowsOf } from "../../ir/ops.js";

/** invocations for a one-row-per-workgroup kernel; at most `cap`, since each tree-sum step is a barrier */
export function rowWorkgroupSize(dim: number, cap = 256): number {
  return Math.min(cap, Math.max(32, nextPowerOfTwo(dim)));
}

function normTemplate(kind: "rmsnorm" | "layernorm"): KernelTemplate {
  return {
    operandNames: () => (kind === "rmsnorm" ? ["x", "gain"] : ["x", "gain", "bias"]),
    render(ctx) {
      const shape = ctx.node.type.shape;
      const dim = shape[shape.length - 1];
      const rows = rowsOf(shape);
      const size = rowWorkgroupSize(dim);
      const x = ctx.operand(0);
      const gain = ctx.operand(1);
      const statistics =
        kind === "rmsnorm"
          ? `  var squares = 0.0;
  for (var j = lane; j < DIM; j = j + WORKGROUP_SIZE) {
    let value = ${x}[base + j];
    squares = squares + value * value;
  }
  let inv = inverseSqrt(workgroup_sum(squares, lane) / f32(DIM) + EPS);
  for (var j = lane; j < DIM; j = j + WORKGROUP_SIZE) {
    ${ctx.output}[base + j] = ${ctx.finish("base + j", `${x}[base + j] * inv * ${gain}[j]`)};
  }`
          : `  var sum = 0.0;
  for (var j = lane; j < DIM; j = j + WORKGROUP_SIZE) {
    sum = sum + ${x}[base + j];
  }
  let mean = workgroup_sum(sum, lane) / f32(DIM);
  // variance from centred values (two passes), not E[x^2] - mean^2, which cancels badly
  var centred_squares = 0.0;
  for (var j = lane; j < DIM; j = j + WORKGROUP_SIZE) {
    let centred = ${x}[base + j] - mean;
    centred_squares = centred_squares + centred * centred;
  }
  let inv = inverseSqrt(workgroup_sum(centred_squares, lane) / f32(DIM) + EPS);
  for (var j = lane; j < DIM; j = j + WORKGROUP_SIZE) {
    ${ctx.output}[base + j] = ${ctx.finish("base + j", `(${x}[base + j] - mean) * inv * ${gain}[j] + ${ctx.operand(2)}[j]`)};
  }`;
      const code = `${u32Constants({ ROWS: rows, DIM: dim, WORKGROUP_SIZE: size })}
const EPS: f32 = ${f32Literal(ctx.node.attrs.eps as number)};

${workgroupSumHelper("f32", size)}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(${SPREAD_BUILTINS}) {
  let row = ${LINEAR_WORKGROUP};
  if (row >= ROWS) { return; }
  let base = row * DIM;
${statistics}
}`;
      return { code, workgroups: spreadWorkgroups(rows) };
    },
  };
}

export const rmsnormTemplate = normTemplate("rmsnorm");
export const layernormTemplate = normTemplate("layernorm");
