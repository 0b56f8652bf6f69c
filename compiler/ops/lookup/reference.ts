// Float64 references of the token-indexed ops: the embedding gather, learned positions and the
// cross-entropy loss over target ids, as definition.ts states them.

import { rowsOf } from "../../ir/ops.js";
import { lastDim, type ReferenceOp } from "../../reference/ops.js";
import { zerosF } from "../../reference/tensor.js";

export const embeddingReference: ReferenceOp = ([table, ids], node) => {
  const [vocab, d] = table.type.shape;
  const out = zerosF(node.type.shape);
  for (let p = 0; p < ids.data.length; p++) {
    const id = ids.data[p];
    if (!Number.isInteger(id) || id < 0 || id >= vocab)
      throw new Error(`embedding %${node.id}: token id ${id} at position ${p} is outside [0, ${vocab})`);
    for (let j = 0; j < d; j++) out.data[p * d + j] = table.data[id * d + j];
  }
  return out;
};

export const addPositionsReference: ReferenceOp = ([x, table], node) => {
  const [b, t, d] = x.type.shape;
  const out = zerosF(node.type.shape);
  for (let bi = 0; bi < b; bi++)
    for (let ti = 0; ti < t; ti++)
      for (let j = 0; j < d; j++) {
        const at = (bi * t + ti) * d + j;
        out.data[at] = x.data[at] + table.data[ti * d + j];
      }
  return out;
};

export const crossEntropyReference: ReferenceOp = ([logits, targets], node) => {
  const vocab = lastDim(logits);
  const positions = rowsOf(logits.type.shape);
  let total = 0;
  for (let p = 0; p < positions; p++) {
    const target = targets.data[p];
    if (target < 0 || target >= vocab)
      throw new Error(
        `cross_entropy %${node.id}: target ${target} at position ${p} is outside [0, ${vocab})`,
      );
    let max = -Infinity;
    for (let j = 0; j < vocab; j++) max = Math.max(max, logits.data[p * vocab + j]);
    let sumExp = 0;
    for (let j = 0; j < vocab; j++) sumExp += Math.exp(logits.data[p * vocab + j] - max);
    total += max + Math.log(sumExp) - logits.data[p * vocab + target];
  }
  const out = zerosF([]);
  out.data[0] = total / positions;
  return out;
};
