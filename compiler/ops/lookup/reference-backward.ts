// Backward of the table lookups (scatter-adds) and of the cross-entropy loss.

import type { ReferenceOp } from "../../reference/backward/common.js";
import { attrNumber, floats, ints, lastDim, resultOf } from "../../reference/backward/common.js";

export const embeddingGradRef: ReferenceOp = ([ids, dy], node) => {
  const vocab = attrNumber(node, "vocab");
  const d = lastDim(dy);
  const [idx, g] = [ints(ids), floats(dy)];
  const out = resultOf(node);
  const o = floats(out);
  for (let p = 0; p < idx.length; p++) {
    const v = idx[p];
    if (v < 0 || v >= vocab) throw new Error(`embedding_grad: id ${v} outside [0, ${vocab})`);
    for (let j = 0; j < d; j++) o[v * d + j] += g[p * d + j];
  }
  return out;
};

export const addPositionsGradTableRef: ReferenceOp = ([dy], node) => {
  const [batch, seq, d] = dy.type.shape;
  const g = floats(dy);
  const out = resultOf(node);
  const o = floats(out);
  for (let b = 0; b < batch; b++) for (let i = 0; i < seq * d; i++) o[i] += g[b * seq * d + i];
  return out;
};

export const crossEntropyGradRef: ReferenceOp = ([logits, targets, dloss], node) => {
  const v = lastDim(logits);
  const [x, tgt] = [floats(logits), ints(targets)];
  const rows = tgt.length;
  const scale = floats(dloss)[0] / rows;
  const out = resultOf(node);
  const o = floats(out);
  for (let r = 0; r < rows; r++) {
    const target = tgt[r];
    if (target < 0 || target >= v) throw new Error(`cross_entropy_grad: target ${target} outside [0, ${v})`);
    let max = -Infinity;
    for (let j = 0; j < v; j++) max = Math.max(max, x[r * v + j]);
    let sum = 0;
    for (let j = 0; j < v; j++) sum += Math.exp(x[r * v + j] - max);
    for (let j = 0; j < v; j++)
      o[r * v + j] = (Math.exp(x[r * v + j] - max) / sum - (j === target ? 1 : 0)) * scale;
  }
  return out;
};
