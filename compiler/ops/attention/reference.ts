// Float64 reference of causal multi-head attention, exactly as definition.ts states it.

import { attrNumber, softmaxList, type ReferenceOp } from "../../reference/ops.js";
import { zerosF } from "../../reference/tensor.js";

export const attentionReference: ReferenceOp = ([q, k, v], node) => {
  const heads = attrNumber(node, "heads");
  const kvHeads = attrNumber(node, "kv_heads");
  const headDim = attrNumber(node, "head_dim");
  const [b, t] = q.type.shape;
  const groupSize = heads / kvHeads;
  const qWidth = heads * headDim;
  const kvWidth = kvHeads * headDim;
  const scaleFactor = 1 / Math.sqrt(headDim);
  const out = zerosF(node.type.shape);
  for (let bi = 0; bi < b; bi++)
    for (let h = 0; h < heads; h++) {
      const kvHead = Math.floor(h / groupSize);
      for (let ti = 0; ti < t; ti++) {
        const qBase = (bi * t + ti) * qWidth + h * headDim;
        const scores: number[] = [];
        for (let si = 0; si <= ti; si++) {
          const kBase = (bi * t + si) * kvWidth + kvHead * headDim;
          let dot = 0;
          for (let j = 0; j < headDim; j++) dot += q.data[qBase + j] * k.data[kBase + j];
          scores.push(dot * scaleFactor);
        }
        const weights = softmaxList(scores);
        for (let si = 0; si <= ti; si++) {
          const vBase = (bi * t + si) * kvWidth + kvHead * headDim;
          for (let j = 0; j < headDim; j++) out.data[qBase + j] += weights[si] * v.data[vBase + j];
        }
      }
    }
  return out;
};
