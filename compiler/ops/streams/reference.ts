// Float64 references of the stream ops, as definition.ts states them: plain loops over tokens,
// streams and features. A weight operand is shared by every token when it has no token dims.

import { numel, type Node } from "../../ir/ir.js";
import { zerosF, type Tensor } from "../../reference/tensor.js";
import type { ReferenceOp } from "../../reference/ops.js";

/** the offset of token p's weights: 0 for static weights, p * size otherwise */
function weightBase(w: Tensor, p: number, size: number): number {
  return w.data.length === size ? 0 : p * size;
}

function dims(x: Tensor): { tokens: number; n: number; d: number } {
  const s = x.type.shape;
  return { tokens: numel(s.slice(0, -2)), n: s[s.length - 2], d: s[s.length - 1] };
}

export const streamExpandRef: ReferenceOp = ([x], node: Node) => {
  const out = zerosF(node.type.shape);
  const n = node.attrs.streams as number;
  const d = x.type.shape[x.type.shape.length - 1];
  for (let p = 0; p < x.data.length / d; p++)
    for (let k = 0; k < n; k++) for (let j = 0; j < d; j++) out.data[(p * n + k) * d + j] = x.data[p * d + j];
  return out;
};

export const streamReadRef: ReferenceOp = ([x, w], node) => {
  const out = zerosF(node.type.shape);
  const { tokens, n, d } = dims(x);
  for (let p = 0; p < tokens; p++)
    for (let k = 0; k < n; k++) {
      const weight = w ? w.data[weightBase(w, p, n) + k] : 1;
      for (let j = 0; j < d; j++) out.data[p * d + j] += weight * x.data[(p * n + k) * d + j];
    }
  return out;
};

export const streamWriteRef: ReferenceOp = ([x, r, b, y], node) => {
  const out = zerosF(node.type.shape);
  const { tokens, n, d } = dims(x);
  for (let p = 0; p < tokens; p++)
    for (let to = 0; to < n; to++) {
      const at = (p * n + to) * d;
      const bw = b.data[weightBase(b, p, n) + to];
      for (let j = 0; j < d; j++) out.data[at + j] = bw * y.data[p * d + j];
      for (let k = 0; k < n; k++) {
        const rw = r.data[weightBase(r, p, n * n) + k * n + to];
        for (let j = 0; j < d; j++) out.data[at + j] += rw * x.data[(p * n + k) * d + j];
      }
    }
  return out;
};

export const streamMixRef: ReferenceOp = ([x, r], node) => {
  const out = zerosF(node.type.shape);
  const { tokens, n, d } = dims(x);
  const m = node.type.shape[node.type.shape.length - 2];
  const transpose = node.attrs.transpose === true;
  for (let p = 0; p < tokens; p++)
    for (let to = 0; to < m; to++)
      for (let k = 0; k < n; k++) {
        const rw = r.data[weightBase(r, p, n * m) + (transpose ? to * n + k : k * m + to)];
        for (let j = 0; j < d; j++) out.data[(p * m + to) * d + j] += rw * x.data[(p * n + k) * d + j];
      }
  return out;
};

export const streamGramRef: ReferenceOp = ([a, b], node) => {
  const out = zerosF(node.type.shape);
  const { tokens, n, d } = dims(a);
  const m = b.type.shape[b.type.shape.length - 2];
  for (let p = 0; p < tokens; p++)
    for (let k = 0; k < n; k++)
      for (let to = 0; to < m; to++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += a.data[(p * n + k) * d + j] * b.data[(p * m + to) * d + j];
        out.data[(p * n + k) * m + to] = dot;
      }
  return out;
};
