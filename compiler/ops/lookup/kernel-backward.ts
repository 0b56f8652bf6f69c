// Scatter-adds without float atomics: each output element is owned by one invocation, which
// loops over the positions that can contribute to it (deterministic, and vocabularies are small).

import { numel } from "../../ir/ir.js";
import type { KernelTemplate } from "../../codegen/template.js";
import { perItem } from "../../codegen/kernels/backward/common.js";

export const embeddingGradTemplate: KernelTemplate = {
  operandNames: () => ["ids", "dy"],
  render(ctx) {
    const [vocab, width] = ctx.node.type.shape;
    const positions = numel(ctx.graph.nodes[ctx.node.inputs[0]].type.shape);
    const [ids, dy] = [ctx.operand(0), ctx.operand(1)];
    const body = `  let row = i32(item / WIDTH);
  let d = item % WIDTH;
  var sum = 0.0;
  for (var p = 0u; p < POSITIONS; p++) {
    // ids outside [0, V) read row 0 in the forward kernel, so their gradient lands there too
    let id = ${ids}[p];
    let owner = select(0, id, id >= 0 && id < i32(VOCAB));
    if (owner == row) { sum += ${dy}[p * WIDTH + d]; }
  }
  ${ctx.output}[item] = ${ctx.finish("item", "sum")};`;
    return perItem(vocab * width, { VOCAB: vocab, WIDTH: width, POSITIONS: positions }, "", body);
  },
};

export const addPositionsGradTableTemplate: KernelTemplate = {
  operandNames: () => ["dy"],
  render(ctx) {
    const [batch, seq, width] = ctx.graph.nodes[ctx.node.inputs[0]].type.shape;
    const [context] = ctx.node.type.shape;
    const body = `  var sum = 0.0;
  if (item < SEQ * WIDTH) {
    for (var b = 0u; b < BATCH; b++) { sum += ${ctx.operand(0)}[b * SEQ * WIDTH + item]; }
  }
  ${ctx.output}[item] = ${ctx.finish("item", "sum")};`;
    return perItem(context * width, { BATCH: batch, SEQ: seq, WIDTH: width }, "", body);
  },
};

export const crossEntropyGradTemplate: KernelTemplate = {
  operandNames: () => ["logits", "targets", "dloss"],
  render(ctx) {
    const shape = ctx.node.type.shape;
    const vocab = shape[shape.length - 1];
    const rows = numel(shape) / vocab;
    const [logits, targets, dloss] = [0, 1, 2].map((i) => ctx.operand(i));
    const body = `  let base = item * VOCAB;
  var m = -3.0e38;
  for (var j = 0u; j < VOCAB; j++) { m = max(m, ${logits}[base + j]); }
  var total = 0.0;
  for (var j = 0u; j < VOCAB; j++) { total += exp(${logits}[base + j] - m); }
  let scale = ${dloss}[0] / f32(ROWS);
  let wanted = ${targets}[item];
  for (var j = 0u; j < VOCAB; j++) {
    let at = base + j;
    let onehot = select(0.0, 1.0, i32(j) == wanted);
    ${ctx.output}[at] = ${ctx.finish("at", `(exp(${logits}[at] - m) / total - onehot) * scale`)};
  }`;
    return perItem(rows, { VOCAB: vocab, ROWS: rows }, "", body);
  },
};
