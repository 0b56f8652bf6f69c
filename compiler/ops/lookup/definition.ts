// The ops indexed by token ids: the embedding gather, learned positions, and the cross-entropy loss
// over target ids, with their gradients (scatter-adds into the tables, and dlogits): operands,
// attributes and shape rules.

import { sameShape, typeToString } from "../../ir/ir.js";
import { expectShape } from "../../ir/grad-shapes.js";
import { fail, f32, expectF32, num, type OpDef } from "../../ir/ops.js";

export const LOOKUP_FORWARD_OPS = {
  embedding: {
    doc: "out[..., d] = table[ids[...], d]; ids outside [0, V) are a run-time error on the CPU and read row 0 on the GPU",
    arity: 2,
    attrs: [],
    infer: ([table, ids]) => {
      expectF32(table, "embedding table");
      if (ids.dtype !== "i32") fail("embedding ids must be i32");
      if (table.shape.length !== 2) fail("embedding table must be [V, D]");
      return f32([...ids.shape, table.shape[1]]);
    },
  },
  add_positions: {
    doc: "out[b, t, d] = x[b, t, d] + table[t, d] (learned absolute positions; table is [context, D], t < context)",
    arity: 2,
    attrs: [],
    infer: ([x, table]) => {
      if (x.shape.length !== 3 || table.shape.length !== 2)
        fail("add_positions takes x[B,T,D] and table[C,D]");
      if (table.shape[1] !== x.shape[2] || table.shape[0] < x.shape[1])
        fail("position table does not cover x");
      return f32([...x.shape]);
    },
  },
  cross_entropy: {
    doc: "mean over all positions of -log softmax(logits)[target]; logits[..., V], targets i32[...]; result is a scalar",
    arity: 2,
    attrs: [],
    infer: ([logits, targets]) => {
      expectF32(logits, "logits");
      if (targets.dtype !== "i32") fail("targets must be i32");
      if (!sameShape(logits.shape.slice(0, -1), targets.shape))
        fail("targets must match the logits' leading dims");
      return f32([]);
    },
  },
} satisfies Record<string, OpDef>;

export const LOOKUP_BACKWARD_OPS = {
  embedding_grad: {
    doc: "dtable[v, d] = sum over positions p with ids[p] = v of dy[p, d]; operands ids, dy; result [vocab, D]",
    arity: 2,
    attrs: ["vocab"],
    infer: ([ids, dy], a) => {
      const vocab = num(a, "vocab");
      if (ids.dtype !== "i32") fail("embedding_grad ids must be i32");
      if (dy.shape.length !== ids.shape.length + 1 || !sameShape(dy.shape.slice(0, -1), ids.shape))
        fail(`embedding_grad: dy ${typeToString(dy)} does not match ids ${typeToString(ids)}`);
      return f32([vocab, dy.shape[dy.shape.length - 1]]);
    },
  },
  add_positions_grad_table: {
    doc: "dtable[t, d] = sum_b dy[b, t, d] for t < T, and 0 for T <= t < context; operand dy[B,T,D]; result [context, D]",
    arity: 1,
    attrs: ["context"],
    infer: ([dy], a) => {
      const context = num(a, "context");
      if (dy.shape.length !== 3 || dy.shape[1] > context)
        fail("add_positions_grad_table takes dy[B,T,D] with T <= context");
      return f32([context, dy.shape[2]]);
    },
  },
  cross_entropy_grad: {
    doc: "dlogits = (softmax(logits) - onehot(target)) / N * dloss, N the number of positions; operands logits, targets, dloss",
    arity: 3,
    attrs: [],
    infer: ([logits, targets, dloss]) => {
      (LOOKUP_FORWARD_OPS.cross_entropy as OpDef).infer([logits, targets], {});
      expectShape(dloss, [], "cross_entropy_grad dloss");
      return f32([...logits.shape]);
    },
  },
} satisfies Record<string, OpDef>;
