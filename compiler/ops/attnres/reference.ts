// Float64 references of the attention-residual ops: the depth weights and the weighted sum of the
// sources, exactly as definition.ts states them; the oracle for kernel.ts and kernel-static.ts.

import type { Node } from "../../ir/ir.js";
import { rowsOf } from "../../ir/ops.js";
import {
  attrNumber,
  inverseRms,
  lastDim,
  sigmoid,
  softmaxList,
  type ReferenceOp,
} from "../../reference/ops.js";
import { zerosF, type Tensor } from "../../reference/tensor.js";

export function normaliseDepthScores(logits: number[], score: unknown): number[] {
  if (score === "softmax") return softmaxList(logits);
  if (score === "sigmoid") return logits.map(sigmoid);
  if (score === "linear") return [...logits];
  throw new Error(`attnres score must be softmax, sigmoid or linear, got ${String(score)}`);
}

/** out[p] = sum_i alpha_i(p) * s_i[p], where alphaAt gives the depth weights of position p */
function mixSources(
  sources: Tensor[],
  node: Node,
  alphaAt: (position: number, d: number) => number[],
): Tensor {
  const d = lastDim(sources[0]);
  const out = zerosF(node.type.shape);
  for (let p = 0; p < rowsOf(node.type.shape); p++) {
    const alpha = alphaAt(p, d);
    for (let i = 0; i < sources.length; i++)
      for (let j = 0; j < d; j++) out.data[p * d + j] += alpha[i] * sources[i].data[p * d + j];
  }
  return out;
}

/**
 * The depth weights alpha_i(p) of an `attnres` or `attnres_static` node at position p, from its
 * operands (sources, then query and key gain, or the static logits). Exported so that analyses
 * (ablate/probe.ts) read exactly the weights the op mixes with.
 */
export function depthWeightsAt(node: Node, inputs: Tensor[], p: number): number[] {
  const count = attrNumber(node, "sources");
  if (node.op === "attnres_static")
    return normaliseDepthScores(Array.from(inputs[count].data), node.attrs.score);
  if (node.op !== "attnres") throw new Error(`depthWeightsAt: %${node.id} is ${node.op}, not an aggregation`);
  const sources = inputs.slice(0, count);
  const eps = attrNumber(node, "eps");
  const keyNorm = node.attrs.key_norm === true;
  const query = inputs[count];
  const gain = keyNorm ? inputs[count + 1] : undefined;
  const d = lastDim(sources[0]);
  // a learned vector [d] is shared, one per depth-attention head [h, d] repeats every h rows (rows
  // are (token, head) pairs), a projected query is per position
  const queryBase = (p * d) % query.data.length;
  const gainBase = gain ? (p * d) % gain.data.length : 0;
  const logits = sources.map((s) => {
    const inv = keyNorm ? inverseRms(s.data, p * d, d, eps) : 1;
    let dot = 0;
    for (let j = 0; j < d; j++) {
      const key = s.data[p * d + j] * inv * (gain ? gain.data[gainBase + j] : 1);
      dot += query.data[queryBase + j] * key;
    }
    return dot;
  });
  return normaliseDepthScores(logits, node.attrs.score);
}

export const attnresReference: ReferenceOp = (inputs, node) =>
  mixSources(inputs.slice(0, attrNumber(node, "sources")), node, (p) => depthWeightsAt(node, inputs, p));

export const attnresStaticReference: ReferenceOp = (inputs, node) => {
  const count = attrNumber(node, "sources");
  const alpha = normaliseDepthScores(Array.from(inputs[count].data), node.attrs.score);
  return mixSources(inputs.slice(0, count), node, () => alpha);
};
