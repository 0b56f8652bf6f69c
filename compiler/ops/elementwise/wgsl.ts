// WGSL for each elementwise op of the catalog, used both by the stand-alone elementwise kernel and
// by fused epilogues. Adding an elementwise op is one entry here.

import type { Node } from "../../ir/ir.js";
import { f32Literal } from "../../codegen/wgsl.js";

export interface ElementwiseWgsl {
  /** the result, given WGSL expressions for the operands */
  expression(operands: string[], node: Node): string;
  /** module-scope helper functions the expression calls */
  helpers?: string;
}

const SIGMOID_HELPER = `fn sigmoid(x: f32) -> f32 {
  // split on the sign so exp never overflows
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}`;

const GELU_HELPER = `fn gelu(x: f32) -> f32 {
  // tanh form (GPT-2); the clamp keeps tanh away from the inf/inf some drivers compute for big inputs
  let inner = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
  return 0.5 * x * (1.0 + tanh(inner));
}`;

export const ELEMENTWISE_WGSL: Record<string, ElementwiseWgsl> = {
  add: { expression: ([a, b]) => `${a} + ${b}` },
  mul: { expression: ([a, b]) => `${a} * ${b}` },
  scale: { expression: ([a], node) => `${a} * ${f32Literal(node.attrs.factor as number)}` },
  gelu: { expression: ([x]) => `gelu(${x})`, helpers: GELU_HELPER },
  silu: { expression: ([x]) => `${x} * sigmoid(${x})`, helpers: SIGMOID_HELPER },
  // clamped: some drivers compute tanh as a ratio of exponentials, inf/inf for big inputs
  tanh: { expression: ([x]) => `tanh(clamp(${x}, -15.0, 15.0))` },
  sigmoid: { expression: ([x]) => `sigmoid(${x})`, helpers: SIGMOID_HELPER },
};

export { SIGMOID_HELPER };
