// Float64 reference of rotary positions, exactly as definition.ts states it; ropeHead also serves
// the CPU decoder, which rotates one token at a time.

import { attrNumber, type ReferenceOp } from "../../reference/ops.js";
import { zerosF } from "../../reference/tensor.js";

/** rotates one head's vector (at `base`, `headDim` long) of `from` into `to` for token `position` */
export function ropeHead(
  from: ArrayLike<number>,
  to: { [i: number]: number },
  base: number,
  headDim: number,
  position: number,
  theta: number,
): void {
  const half = headDim / 2;
  for (let i = 0; i < half; i++) {
    const angle = position * Math.pow(theta, (-2 * i) / headDim);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const first = from[base + i];
    const second = from[base + i + half];
    to[base + i] = first * cos - second * sin;
    to[base + i + half] = first * sin + second * cos;
  }
}

export const ropeReference: ReferenceOp = ([x], node) => {
  const heads = attrNumber(node, "heads");
  const headDim = attrNumber(node, "head_dim");
  const theta = attrNumber(node, "theta");
  const [b, t] = x.type.shape;
  const out = zerosF(node.type.shape);
  for (let bi = 0; bi < b; bi++)
    for (let ti = 0; ti < t; ti++)
      for (let h = 0; h < heads; h++)
        ropeHead(x.data, out.data, (bi * t + ti) * heads * headDim + h * headDim, headDim, ti, theta);
  return out;
};
