// AttnRes backward for one aggregation: one kernel reads each source once per token and writes
// every gradient, packed (see attnres_grad_sources); a [D] query's or gain's gradient is then the
// sum of its per-token entries over the tokens.
//
// Full AttnRes reads every earlier source again in every later aggregation, so each source's
// gradient is a sum over the aggregations after it. When the gradients summed so far for this
// aggregation's sources are exactly the first entries of one later aggregation's packed gradients
// (its backward ran just before), this one adds them in as it writes its own: the sums need no
// kernels of their own, and only two packed gradients are alive at a time instead of all of them.

import type { GradContext, GradRule } from "../../passes/grad-rules/types.js";

/**
 * the packed gradients P of a later aggregation when every source i here has gradient-so-far
 * slice(P, i), and the sources are distinct; otherwise undefined
 */
function laterPackedGradients(ctx: GradContext, sources: number[]): number | undefined {
  if (new Set(sources).size !== sources.length) return undefined;
  let packed: number | undefined;
  for (const [i, source] of sources.entries()) {
    const grad = ctx.accumulatedGradient(source);
    if (grad === undefined) return undefined;
    const slice = ctx.nodeOf(grad);
    if (slice.op !== "slice" || slice.attrs.index !== i) return undefined;
    const owner = ctx.nodeOf(slice.inputs[0]);
    if (owner.op !== "attnres_grad_sources" || (packed !== undefined && owner.id !== packed))
      return undefined;
    packed = owner.id;
  }
  return packed;
}

export const attnresGrad: GradRule = (ctx) => {
  const { sources, score, key_norm, eps } = ctx.node.attrs;
  const count = sources as number;
  const attrs = { sources, score, key_norm, eps };
  const sourceValues = ctx.node.inputs.slice(0, count);
  const earlier = laterPackedGradients(ctx, sourceValues);
  const operands = [...ctx.node.inputs, ctx.dy, ...(earlier === undefined ? [] : [earlier])];
  if (earlier !== undefined) sourceValues.forEach((s) => ctx.foldsAccumulated(s));
  const packed = ctx.emit("attnres_grad_sources", operands, { ...attrs, accumulate: earlier !== undefined });
  const grads = Array.from({ length: count }, (_, i) => ctx.emit("slice", [packed], { index: i }));
  // a query or gain shared by tokens (or heads) sums its per-token terms over what it is shared by
  const sumToShape = (perToken: number, operand: number) => {
    const rank = ctx.type(operand).shape.length;
    return rank === ctx.type(perToken).shape.length
      ? perToken
      : ctx.emit("reduce_leading", [perToken], { keep: rank });
  };
  grads.push(sumToShape(ctx.emit("slice", [packed], { index: count }), ctx.node.inputs[count]));
  if (key_norm === true)
    grads.push(sumToShape(ctx.emit("slice", [packed], { index: count + 1 }), ctx.node.inputs[count + 1]));
  return grads;
};

export const attnresStaticGrad: GradRule = (ctx) => {
  const { sources, score } = ctx.node.attrs;
  const count = sources as number;
  const attrs = { sources, score };
  const operands = [...ctx.node.inputs, ctx.dy];
  const packed = ctx.emit("attnres_static_grad_sources", operands, attrs);
  const grads = Array.from({ length: count }, (_, i) => ctx.emit("slice", [packed], { index: i }));
  grads.push(ctx.emit("attnres_static_grad_logits", operands, attrs));
  return grads;
};
