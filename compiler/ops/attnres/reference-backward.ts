// AttnRes backward per token. With r_i the key-norm scale, key_i = s_i r_i g (or s_i),
// l_i = w·key_i, alpha = softmax(l) (or sigmoid), out = sum_i alpha_i s_i:
// dl = Jacobian(dalpha) with dalpha_i = dy·s_i; ds_i = alpha_i dy + (key path of dl_i w);
// dw = sum_i dl_i key_i; dg = sum_i dl_i w s_i r_i (both per token here; the graph sums them).

import { numel } from "../../ir/ir.js";
import type { Node } from "../../ir/ir.js";
import type { Tensor } from "../../reference/tensor.js";
import type { ReferenceOp } from "../../reference/backward/common.js";
import {
  attrNumber,
  floats,
  normaliseScores,
  resultOf,
  scoreBackward,
} from "../../reference/backward/common.js";

interface AttnresGrads {
  sources: Float64Array; // packed [S, B, T, D]
  queryPerToken: Float64Array; // [B, T, D]: each token's term of the query gradient
  gainPerToken: Float64Array; // [B, T, D]: each token's term of the gain gradient
}

function attnresBackward(inputs: Tensor[], node: Node): AttnresGrads {
  const count = attrNumber(node, "sources");
  const keyNorm = node.attrs.key_norm === true;
  const eps = attrNumber(node, "eps");
  const score = node.attrs.score;
  const src = inputs.slice(0, count).map(floats);
  const query = floats(inputs[count]);
  const gain = keyNorm ? floats(inputs[count + 1]) : undefined;
  const dy = floats(inputs[count + 1 + (keyNorm ? 1 : 0)]);
  const shape = inputs[0].type.shape;
  const d = shape[shape.length - 1];
  const tokens = numel(shape) / d;
  // query and gain repeat every query.length (gain.length) elements: see reference.ts
  const gainLength = gain ? gain.length : d;
  const grads: AttnresGrads = {
    sources: new Float64Array(count * tokens * d),
    queryPerToken: new Float64Array(tokens * d),
    gainPerToken: new Float64Array(tokens * d),
  };
  for (let p = 0; p < tokens; p++) {
    const base = p * d;
    const qBase = base % query.length;
    const gBase = base % gainLength;
    const scales = src.map((s) => {
      if (!keyNorm) return 1;
      let sq = 0;
      for (let j = 0; j < d; j++) sq += s[base + j] ** 2;
      return 1 / Math.sqrt(sq / d + eps);
    });
    const key = (i: number, j: number) =>
      keyNorm ? src[i][base + j] * scales[i] * gain![gBase + j] : src[i][base + j];
    const logits = src.map((_, i) => {
      let l = 0;
      for (let j = 0; j < d; j++) l += query[qBase + j] * key(i, j);
      return l;
    });
    const alpha = normaliseScores(logits, score);
    const dAlpha = src.map((s) => {
      let sum = 0;
      for (let j = 0; j < d; j++) sum += dy[base + j] * s[base + j];
      return sum;
    });
    const dLogit = scoreBackward(alpha, dAlpha, score);
    for (let i = 0; i < count; i++) {
      const ds = (i * tokens + p) * d;
      for (let j = 0; j < d; j++) {
        grads.sources[ds + j] = alpha[i] * dy[base + j];
        grads.queryPerToken[base + j] += dLogit[i] * key(i, j);
      }
      if (!keyNorm) {
        for (let j = 0; j < d; j++) grads.sources[ds + j] += dLogit[i] * query[qBase + j];
        continue;
      }
      const r = scales[i];
      let dot = 0;
      for (let j = 0; j < d; j++) dot += dLogit[i] * query[qBase + j] * gain![gBase + j] * src[i][base + j];
      for (let j = 0; j < d; j++) {
        const u = dLogit[i] * query[qBase + j] * gain![gBase + j];
        grads.sources[ds + j] += r * u - (r * r * r * src[i][base + j] * dot) / d;
        grads.gainPerToken[base + j] += dLogit[i] * query[qBase + j] * src[i][base + j] * r;
      }
    }
  }
  return grads;
}

/** packed [S+1(+1), B, T, D]: source gradients, then per-token query and gain contributions */
export const attnresGradSourcesRef: ReferenceOp = (inputs, node) => {
  const out = resultOf(node);
  const g = attnresBackward(inputs, node);
  const data = floats(out);
  data.set(g.sources);
  // accumulate: the later aggregation's packed gradients, whose first S entries are added
  if (node.attrs.accumulate === true) {
    const earlier = floats(inputs[inputs.length - 1]);
    for (let k = 0; k < g.sources.length; k++) data[k] += earlier[k];
  }
  data.set(g.queryPerToken, g.sources.length);
  if (node.attrs.key_norm === true) data.set(g.gainPerToken, g.sources.length + g.queryPerToken.length);
  return out;
};

function staticBackward(inputs: Tensor[], node: Node): { sources: Float64Array; logits: Float64Array } {
  const count = attrNumber(node, "sources");
  const src = inputs.slice(0, count).map(floats);
  const logits = Array.from(floats(inputs[count]));
  const dy = floats(inputs[inputs.length - 1]);
  const n = dy.length;
  const alpha = normaliseScores(logits, node.attrs.score);
  const sources = new Float64Array(count * n);
  const dAlpha = src.map((s, i) => {
    let sum = 0;
    for (let j = 0; j < n; j++) {
      sum += dy[j] * s[j];
      sources[i * n + j] = alpha[i] * dy[j];
    }
    return sum;
  });
  return { sources, logits: Float64Array.from(scoreBackward(alpha, dAlpha, node.attrs.score)) };
}

export const attnresStaticGradSourcesRef: ReferenceOp = (inputs, node) => {
  const out = resultOf(node);
  floats(out).set(staticBackward(inputs, node).sources);
  return out;
};

export const attnresStaticGradLogitsRef: ReferenceOp = (inputs, node) => {
  const out = resultOf(node);
  floats(out).set(staticBackward(inputs, node).logits);
  return out;
};
