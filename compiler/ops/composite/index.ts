// Composite ops: an op declared as a small graph of existing ops. The graph builder expands it where
// it is used, so the IR only ever holds the ops it is made of: its gradient, its float64 reference
// and its kernels (fused where fusion allows) come from theirs, and a new idea can be trained the
// day it is written. One that later earns a kernel of its own moves to an op family with a
// definition, gradient, kernel and reference, and the expansion becomes its reference's oracle.

import type { Attrs } from "../../ir/ir.js";

/** what an expansion may do: emit ops (composite or not) in the caller's scope */
export interface Expander {
  op(op: string, inputs: number[], attrs?: Attrs): number;
}

export interface CompositeOp {
  doc: string;
  arity: number;
  attrs: readonly string[];
  /** emits the ops that compute the result and returns its value */
  expand(b: Expander, inputs: number[], attrs: Attrs): number;
}

export const COMPOSITE_OPS: Readonly<Record<string, CompositeOp>> = {
  blend: {
    doc:
      "out = a + g (b - a): b mixed into a by a scalar g [1] (gated AttnRes: a the plain residual sum, " +
      "b the aggregation, g from 0)",
    arity: 3,
    attrs: [],
    expand: (b, [a, target, g]) => {
      const difference = b.op("add", [target, b.op("scale", [a], { factor: -1 })]);
      return b.op("add", [a, b.op("mul", [difference, g])]);
    },
  },
  scaled_tanh: {
    doc: "out = s tanh(x) with a scalar s [1] (the dynamic weights of hyper-connections)",
    arity: 2,
    attrs: [],
    expand: (b, [x, s]) => b.op("mul", [b.op("tanh", [x]), s]),
  },
};

export class CompositeError extends Error {}

/** checks a composite's use and expands it through `b` */
export function expandComposite(b: Expander, op: string, inputs: number[], attrs: Attrs): number {
  const composite = COMPOSITE_OPS[op];
  if (inputs.length !== composite.arity)
    throw new CompositeError(`${op} takes ${composite.arity} operands, got ${inputs.length}`);
  for (const key of composite.attrs)
    if (!(key in attrs)) throw new CompositeError(`${op}: missing attribute '${key}'`);
  return composite.expand(b, inputs, attrs);
}
