// Float64 references of the decoding ops, exactly as definition.ts states them.

import { attrNumber, softmaxList, type ReferenceOp } from "../../reference/ops.js";
import { zerosF, type Tensor } from "../../reference/tensor.js";
import { ropeHead } from "../rope/reference.js";

/** the decoded position, clamped into [0, rows) as the kernels clamp it (rows: a table's or cache's) */
function positionOf(position: Tensor, rows = Infinity): number {
  return Math.min(Math.max(Number(position.data[0]), 0), rows - 1);
}

export const addPositionAtReference: ReferenceOp = ([x, table, position], node) => {
  const d = x.type.shape[2];
  const p = positionOf(position, table.type.shape[0]);
  const out = zerosF(node.type.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = x.data[i] + table.data[p * d + (i % d)];
  return out;
};

export const ropeAtReference: ReferenceOp = ([x, position], node) => {
  const heads = attrNumber(node, "heads");
  const headDim = attrNumber(node, "head_dim");
  const theta = attrNumber(node, "theta");
  const out = zerosF(node.type.shape);
  const rows = x.type.shape[0];
  for (let b = 0; b < rows; b++)
    for (let h = 0; h < heads; h++)
      ropeHead(x.data, out.data, (b * heads + h) * headDim, headDim, positionOf(position), theta);
  return out;
};

export const cachedAttentionReference: ReferenceOp = ([q, k, v, kCache, vCache, position], node) => {
  const heads = attrNumber(node, "heads");
  const kvHeads = attrNumber(node, "kv_heads");
  const headDim = attrNumber(node, "head_dim");
  const batch = q.type.shape[0];
  const p = positionOf(position, kCache.type.shape[0]);
  const kvWidth = kvHeads * headDim;
  const group = heads / kvHeads;
  const scale = 1 / Math.sqrt(headDim);
  // position s's key (or value) element j of kv head g in sequence b: the cache below p, the operand at p
  const at = (cache: Tensor, fresh: Tensor, b: number, s: number, g: number, j: number) =>
    s < p
      ? cache.data[(s * batch + b) * kvWidth + g * headDim + j]
      : fresh.data[b * kvWidth + g * headDim + j];
  const out = zerosF(node.type.shape);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / group);
      const qBase = (b * heads + h) * headDim;
      const scores: number[] = [];
      for (let s = 0; s <= p; s++) {
        let dot = 0;
        for (let j = 0; j < headDim; j++) dot += q.data[qBase + j] * at(kCache, k, b, s, g, j);
        scores.push(dot * scale);
      }
      const weights = softmaxList(scores);
      for (let s = 0; s <= p; s++)
        for (let j = 0; j < headDim; j++) out.data[qBase + j] += weights[s] * at(vCache, v, b, s, g, j);
    }
  return out;
};
