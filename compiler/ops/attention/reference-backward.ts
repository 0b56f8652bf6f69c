// Causal attention backward, recomputing the softmax per query row:
// dS_ts = P_ts (dy_t·v_s - dy_t·o_t), dq_t = c sum_s dS_ts k_s, dk_s = c sum_t dS_ts q_t, dv_s = sum_t P_ts dy_t.

import type { Node } from "../../ir/ir.js";
import type { Tensor } from "../../reference/tensor.js";
import type { ReferenceOp } from "../../reference/backward/common.js";
import { attrNumber, floats, resultOf } from "../../reference/backward/common.js";

function attentionBackward(
  inputs: Tensor[],
  node: Node,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const [q, k, v, o, dy] = inputs.map(floats);
  const heads = attrNumber(node, "heads");
  const kvHeads = attrNumber(node, "kv_heads");
  const hd = attrNumber(node, "head_dim");
  const [batch, seq] = inputs[0].type.shape;
  const c = 1 / Math.sqrt(hd);
  const group = heads / kvHeads;
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  const qAt = (b: number, t: number, h: number) => ((b * seq + t) * heads + h) * hd;
  const kvAt = (b: number, t: number, h: number) => ((b * seq + t) * kvHeads + h) * hd;
  const dot = (x: Float64Array, xi: number, y: Float64Array, yi: number) => {
    let sum = 0;
    for (let j = 0; j < hd; j++) sum += x[xi + j] * y[yi + j];
    return sum;
  };
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++) {
      const kh = Math.floor(h / group);
      for (let t = 0; t < seq; t++) {
        const qi = qAt(b, t, h);
        const scores = Array.from({ length: t + 1 }, (_, s) => c * dot(q, qi, k, kvAt(b, s, kh)));
        const max = Math.max(...scores);
        const e = scores.map((x) => Math.exp(x - max));
        const sum = e.reduce((x, y) => x + y, 0);
        const rowTerm = dot(dy, qi, o, qi);
        for (let s = 0; s <= t; s++) {
          const p = e[s] / sum;
          const ki = kvAt(b, s, kh);
          const dS = p * (dot(dy, qi, v, ki) - rowTerm);
          for (let j = 0; j < hd; j++) {
            dq[qi + j] += c * dS * k[ki + j];
            dk[ki + j] += c * dS * q[qi + j];
            dv[ki + j] += p * dy[qi + j];
          }
        }
      }
    }
  return { dq, dk, dv };
}

export const attentionGradQRef: ReferenceOp = (inputs, node) => {
  const out = resultOf(node);
  floats(out).set(attentionBackward(inputs, node).dq);
  return out;
};

export const attentionGradKvRef: ReferenceOp = (inputs, node) => {
  const { dk, dv } = attentionBackward(inputs, node);
  const out = resultOf(node);
  floats(out).set(dk, 0);
  floats(out).set(dv, dk.length);
  return out;
};
