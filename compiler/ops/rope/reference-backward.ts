// rope's transpose: each (i, i + head_dim/2) pair is rotated back by its forward angle.

import type { ReferenceOp } from "../../reference/backward/common.js";
import { attrNumber, floats, resultOf } from "../../reference/backward/common.js";

export const ropeGradRef: ReferenceOp = ([dy], node) => {
  const heads = attrNumber(node, "heads");
  const hd = attrNumber(node, "head_dim");
  const theta = attrNumber(node, "theta");
  const [batch, seq] = dy.type.shape;
  const half = hd / 2;
  const g = floats(dy);
  const out = resultOf(node);
  const o = floats(out);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < seq; t++)
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < half; i++) {
          const angle = t * Math.pow(theta, (-2 * i) / hd);
          const [c, s] = [Math.cos(angle), Math.sin(angle)];
          const lo = ((b * seq + t) * heads + h) * hd + i;
          const hi = lo + half;
          o[lo] = g[lo] * c + g[hi] * s;
          o[hi] = -g[lo] * s + g[hi] * c;
        }
  return out;
};
