// rmsnorm_matmul's prologue, shared by every product kernel: the norm's epsilon and gain, the
// loader of b scaled by the gain (so the gain costs one multiply per loaded element), and which
// operand is which.

import type { TemplateContext } from "../../codegen/template.js";
import { f32Literal } from "../../codegen/wgsl.js";
import { productOperands } from "./definition.js";

/** which operand is a, b and (rmsnorm_matmul) the gain */
export function productOperandIndices(op: string): { a: number; b: number; gain?: number } {
  const { a, b } = productOperands({ op, inputs: [0, 1, 2] });
  return op === "rmsnorm_matmul" ? { a, b, gain: 1 } : { a, b };
}

/** the norm's epsilon and `load_gain(k)`, zero past K like the loads */
export function normPrologue(ctx: TemplateContext): string {
  return `const EPS: f32 = ${f32Literal(ctx.node.attrs.eps as number)};

fn load_gain(k: u32) -> f32 {
  if (k >= K) { return 0.0; }
  return ${ctx.operand(productOperandIndices("rmsnorm_matmul").gain!)}[k];
}`;
}

/**
 * what a loaded element (or four) of b is multiplied by: the gain of its k; four elements along
 * the columns share one k, four along the depth (b transposed) have four
 */
export function gainScale(bTransposed: boolean): { scalar: string; vector: string } {
  return {
    scalar: "load_gain(k)",
    vector: bTransposed
      ? "vec4f(load_gain(k), load_gain(k + 1u), load_gain(k + 2u), load_gain(k + 3u))"
      : "load_gain(k)",
  };
}
