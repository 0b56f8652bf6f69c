// The plumbing autodiff emits (constant fills, reshapes, slices of packed multi-result gradients and
// sums over broadcast leading dimensions); reshape is a forward op too. Slices and reshapes at
// aligned offsets become views with no kernel (compiler/passes/views.ts).

import { numel, typeToString } from "../../ir/ir.js";
import { shapeAttr } from "../../ir/grad-shapes.js";
import { fail, f32, num, type OpDef } from "../../ir/ops.js";

/** reshape is also a forward op: lowering views a per-token state [B,T,n,D] as [B,T,n*D] */
export const PLUMBING_FORWARD_OPS = {
  reshape: {
    doc: "the same elements in row-major order under another shape of equal size",
    arity: 1,
    attrs: ["shape"],
    infer: ([x], a) => {
      const shape = shapeAttr(a, "shape");
      if (numel(shape) !== numel(x.shape))
        fail(`reshape: ${typeToString(x)} has no view as [${shape.join(",")}]`);
      return { dtype: x.dtype, shape };
    },
  },
} satisfies Record<string, OpDef>;

export const PLUMBING_OPS_DEFS = {
  fill: {
    doc: "a constant tensor: every element equals `value` (the loss seed, zero gradients of unused parameters)",
    arity: 0,
    attrs: ["shape", "value"],
    infer: (_i, a) => (num(a, "value"), f32(shapeAttr(a, "shape"))),
  },
  reduce_leading: {
    doc: "sum over all but the last `keep` dims: out[j...] = sum_i x[i..., j...] (undoes add's broadcast)",
    arity: 1,
    attrs: ["keep"],
    infer: ([x], a) => {
      const keep = num(a, "keep");
      if (!Number.isInteger(keep) || keep < 0 || keep > x.shape.length)
        fail(`reduce_leading: cannot keep ${keep} dims of ${typeToString(x)}`);
      return f32(x.shape.slice(x.shape.length - keep));
    },
  },
  slice: {
    doc: "out = x[index]: one entry along the leading dim (views into packed multi-result gradients)",
    arity: 1,
    attrs: ["index"],
    infer: ([x], a) => {
      const index = num(a, "index");
      if (x.shape.length === 0 || !Number.isInteger(index) || index < 0 || index >= x.shape[0])
        fail(`slice: index ${index} outside ${typeToString(x)}`);
      return { dtype: x.dtype, shape: x.shape.slice(1) };
    },
  },
} satisfies Record<string, OpDef>;
