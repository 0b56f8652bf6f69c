// The attention-residual ops: their operands, attributes and shape rules. AttnRes replaces the
// fixed residual sum with softmax attention over depth (arXiv 2603.15031); attnres_static is the
// input-independent ablation. The backward ops are what their gradient rules (gradient.ts) emit.

import { sameShape } from "../../ir/ir.js";
import { withUpstream } from "../../ir/grad-shapes.js";
import { f32, fail, last, num, sameAs, type OpDef } from "../../ir/ops.js";

export const ATTNRES_FORWARD_OPS = {
  attnres: {
    doc:
      "AttnRes depth aggregation over `sources` sources s_i[B,T,D] (operands 0..S-1), then the query " +
      "(operand S: [D]; [H,D] with sources [B,T,H,D] for multi-head depth attention, one query per head; or " +
      "[B,T,D] for a projected query), then the key-norm gain when key_norm ([D] or [H,D], like the query). " +
      "key_i = key_norm ? s_i / sqrt(mean(s_i^2) + eps) * gain : s_i; logit_i = query · key_i; " +
      "alpha = softmax over i (or sigmoid of each logit); out = sum_i alpha_i s_i",
    arity: "variadic",
    attrs: ["sources", "score", "key_norm", "eps"],
    infer: (inputs, a) => {
      const s = num(a, "sources");
      const keyNorm = a.key_norm === true;
      if (a.score !== "softmax" && a.score !== "sigmoid") fail("attnres score must be softmax or sigmoid");
      if (s < 1) fail("attnres needs at least one source");
      if (inputs.length !== s + 1 + (keyNorm ? 1 : 0))
        fail(`attnres expects ${s + 1 + (keyNorm ? 1 : 0)} operands`);
      const src = inputs.slice(0, s);
      const out = sameAs(src);
      const d = last(out.shape);
      // the query (and the gain) is a suffix of the sources' shape, repeated over the leading dims
      const isSuffix = (shape: number[]) =>
        shape.length >= 1 &&
        shape.length <= out.shape.length &&
        sameShape(out.shape.slice(-shape.length), shape);
      if (!isSuffix(inputs[s].shape))
        fail("attnres query must be a suffix of the sources' shape: [D], [H,D] or [B,T,D]");
      if (keyNorm && !isSuffix(inputs[s + 1].shape)) fail("attnres key-norm gain must be [D] or [H,D]");
      return out;
    },
  },
  attnres_static: {
    doc:
      "input-independent AttnRes (ablation): operands s_0..s_{S-1}[B,T,D] then logits[S]; " +
      "alpha = softmax(logits), or sigmoid of each, or (score linear: DenseFormer's weighted average, " +
      "hyper-connections' static weights) the logits themselves; out = sum_i alpha_i s_i",
    arity: "variadic",
    attrs: ["sources", "score"],
    infer: (inputs, a) => {
      const s = num(a, "sources");
      if (!["softmax", "sigmoid", "linear"].includes(a.score as string))
        fail("attnres_static score must be softmax, sigmoid or linear");
      if (inputs.length !== s + 1) fail(`attnres_static expects ${s + 1} operands`);
      const out = sameAs(inputs.slice(0, s));
      if (!sameShape(inputs[s].shape, [s])) fail(`attnres_static logits must be [${s}]`);
      return out;
    },
  },
} satisfies Record<string, OpDef>;

export const ATTNRES_BACKWARD_OPS = {
  attnres_grad_sources: {
    doc:
      "all gradients of attnres from one pass over the sources, packed as [S+1(+1),B,T,D]: entries 0..S-1 are " +
      "d(source_i) = alpha_i dy plus the path through the logit (and the key norm); entry S is each token's " +
      "query gradient sum_i dlogit_i key_i; with key_norm, entry S+1 is each token's gain gradient " +
      "sum_i dlogit_i query s_i r_i. A [D] query's or gain's gradient is the sum over tokens (reduce_leading). " +
      "Operands: attnres's operands, then dy, then (accumulate) the packed gradients of a later aggregation, " +
      "whose entries 0..S-1 are added to entries 0..S-1 here (the sources' gradients summed so far)",
    arity: "variadic",
    attrs: ["sources", "score", "key_norm", "eps", "accumulate"],
    infer: (inputs, a) => {
      const accumulate = a.accumulate === true;
      const own = accumulate ? inputs.slice(0, -1) : inputs;
      const { out } = withUpstream("attnres", own, a, ATTNRES_FORWARD_OPS.attnres);
      const sources = num(a, "sources");
      if (accumulate) {
        const earlier = inputs[inputs.length - 1];
        if (!(
          earlier.shape.length === out.shape.length + 1 &&
          earlier.shape[0] >= sources &&
          sameShape(earlier.shape.slice(1), out.shape)
        ))
          fail(`attnres_grad_sources: accumulated gradients must be [>= ${sources}, ${out.shape.join(",")}]`);
      }
      const entries = sources + 1 + (a.key_norm === true ? 1 : 0);
      return f32([entries, ...out.shape]);
    },
  },
  attnres_static_grad_sources: {
    doc: "d(source_i) of attnres_static packed as [S,B,T,D]: alpha_i dy; operands: attnres_static's operands, then dy",
    arity: "variadic",
    attrs: ["sources", "score"],
    infer: (inputs, a) => {
      const { out } = withUpstream("attnres_static", inputs, a, ATTNRES_FORWARD_OPS.attnres_static);
      return f32([num(a, "sources"), ...out.shape]);
    },
  },
  attnres_static_grad_logits: {
    doc:
      "d(logits) of attnres_static: the softmax (sigmoid, identity) Jacobian applied to dalpha_i = sum_{b,t,d} dy s_i; " +
      "result [S]; operands: attnres_static's operands, then dy",
    arity: "variadic",
    attrs: ["sources", "score"],
    infer: (inputs, a) => {
      withUpstream("attnres_static", inputs, a, ATTNRES_FORWARD_OPS.attnres_static);
      return f32([num(a, "sources")]);
    },
  },
} satisfies Record<string, OpDef>;
