// Shape-rule helpers for the ops autodiff emits (gradient kernels and the plumbing around them),
// which the op families (compiler/ops/<family>/definition.ts) define.

import type { Attrs, TensorType } from "./ir.js";
import { sameShape, typeToString } from "./ir.js";
import { f32, fail, type OpDef } from "./ops.js";

export function shapeAttr(attrs: Attrs, key: string): number[] {
  const v = attrs[key];
  if (!Array.isArray(v) || v.some((d) => !Number.isInteger(d) || d < 0))
    fail(`attribute ${key} must be a shape`);
  return [...v];
}

export function expectShape(t: TensorType, shape: readonly number[], what: string): void {
  if (t.dtype !== "f32" || !sameShape(t.shape, shape))
    fail(`${what} must be f32[${shape.join(",")}], got ${typeToString(t)}`);
}

/**
 * gradient ops whose operands are the forward operands followed by the upstream gradient dy: checks
 * the forward operands with the forward op's own rule `def` and returns the forward result type
 */
export function withUpstream(
  op: string,
  inputs: TensorType[],
  attrs: Attrs,
  def: OpDef,
): { forward: TensorType[]; out: TensorType } {
  if (inputs.length < 2) fail(`${op} gradient needs the forward operands and dy`);
  const forward = inputs.slice(0, -1);
  const out = def.infer(forward, attrs);
  expectShape(inputs[inputs.length - 1], out.shape, `${op} gradient dy`);
  return { forward, out };
}

export function elementwiseGrad(forwardOp: string): OpDef {
  return {
    doc: `dx = dy * ${forwardOp}'(x); operands x, dy of one shape`,
    arity: 2,
    attrs: [],
    elementwise: true,
    infer: ([x, dy]) => {
      expectShape(x, x.shape, `${forwardOp}_grad x`);
      expectShape(dy, x.shape, `${forwardOp}_grad dy`);
      return f32([...x.shape]);
    },
  };
}
