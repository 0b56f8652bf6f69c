// Float64 reference implementations of every forward op in compiler/ir/ops.ts, written for
// clarity rather than speed: they are the oracle that GPU kernels and autodiff are tested against.
// Each function receives its operands in catalog order and the node (for attrs and result type).

import type { Node } from "../ir/ir.js";
import { numel } from "../ir/ir.js";
import { rowsOf } from "../ir/ops.js";
import type { Tensor } from "./tensor.js";
import { zerosF } from "./tensor.js";

export type ReferenceOp = (inputs: Tensor[], node: Node) => Tensor;

export function lastDim(t: Tensor): number {
  return t.type.shape[t.type.shape.length - 1];
}

export function attrNumber(node: Node, key: string): number {
  const v = node.attrs[key];
  if (typeof v !== "number")
    throw new Error(`${node.op} node %${node.id}: attribute ${key} must be a number`);
  return v;
}

function mapElementwise(x: Tensor, node: Node, fn: (v: number) => number): Tensor {
  const out = zerosF(node.type.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = fn(x.data[i]);
  return out;
}

export function sigmoid(v: number): number {
  return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
}

/** softmax of a short list, shifted by its maximum so large logits do not overflow */
export function softmaxList(logits: number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

export function inverseRms(data: ArrayLike<number>, offset: number, d: number, eps: number): number {
  let sumSquares = 0;
  for (let j = 0; j < d; j++) sumSquares += data[offset + j] * data[offset + j];
  return 1 / Math.sqrt(sumSquares / d + eps);
}

const embedding: ReferenceOp = ([table, ids], node) => {
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

const addPositions: ReferenceOp = ([x, table], node) => {
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

const matmul: ReferenceOp = ([a, b], node) => {
  const ta = node.attrs.ta === true;
  const tb = node.attrs.tb === true;
  const aRows = rowsOf(a.type.shape);
  const aCols = lastDim(a);
  const bRows = rowsOf(b.type.shape);
  const bCols = lastDim(b);
  const m = ta ? aCols : aRows;
  const k = ta ? aRows : aCols;
  const n = tb ? bRows : bCols;
  // element (i, kk) of op(A) and (kk, j) of op(B) in the stored row-major views
  const aAt = (i: number, kk: number) => (ta ? a.data[kk * aCols + i] : a.data[i * aCols + kk]);
  const bAt = (kk: number, j: number) => (tb ? b.data[j * bCols + kk] : b.data[kk * bCols + j]);
  const out = zerosF(node.type.shape);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let kk = 0; kk < k; kk++) sum += aAt(i, kk) * bAt(kk, j);
      out.data[i * n + j] = sum;
    }
  return out;
};

const add: ReferenceOp = ([a, b], node) => {
  const out = zerosF(node.type.shape);
  const period = b.data.length; // b is a suffix of a's shape, so it repeats every numel(b) elements
  for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[i] + b.data[i % period];
  return out;
};

const mul: ReferenceOp = ([a, b], node) => {
  const out = zerosF(node.type.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[i] * b.data[i];
  return out;
};

const scale: ReferenceOp = ([a], node) => {
  const factor = attrNumber(node, "factor");
  return mapElementwise(a, node, (v) => v * factor);
};

const GELU_C = Math.sqrt(2 / Math.PI);
const gelu: ReferenceOp = ([x], node) =>
  mapElementwise(x, node, (v) => 0.5 * v * (1 + Math.tanh(GELU_C * (v + 0.044715 * v * v * v))));

const silu: ReferenceOp = ([x], node) => mapElementwise(x, node, (v) => v * sigmoid(v));

const rmsnorm: ReferenceOp = ([x, gain], node) => {
  const eps = attrNumber(node, "eps");
  const d = lastDim(x);
  const out = zerosF(node.type.shape);
  for (let r = 0; r < rowsOf(x.type.shape); r++) {
    const inv = inverseRms(x.data, r * d, d, eps);
    for (let j = 0; j < d; j++) out.data[r * d + j] = x.data[r * d + j] * inv * gain.data[j];
  }
  return out;
};

const layernorm: ReferenceOp = ([x, gain, bias], node) => {
  const eps = attrNumber(node, "eps");
  const d = lastDim(x);
  const out = zerosF(node.type.shape);
  for (let r = 0; r < rowsOf(x.type.shape); r++) {
    const base = r * d;
    let mean = 0;
    for (let j = 0; j < d; j++) mean += x.data[base + j];
    mean /= d;
    let variance = 0;
    for (let j = 0; j < d; j++) variance += (x.data[base + j] - mean) ** 2;
    variance /= d;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let j = 0; j < d; j++)
      out.data[base + j] = (x.data[base + j] - mean) * inv * gain.data[j] + bias.data[j];
  }
  return out;
};

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

const rope: ReferenceOp = ([x], node) => {
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

const attention: ReferenceOp = ([q, k, v], node) => {
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

const crossEntropy: ReferenceOp = ([logits, targets], node) => {
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

/** every computing op of the catalog; "input" and "param" are read by the interpreter instead */
export const REFERENCE_OPS = {
  embedding,
  add_positions: addPositions,
  matmul,
  add,
  mul,
  scale,
  gelu,
  silu,
  rmsnorm,
  layernorm,
  rope,
  attention,
  cross_entropy: crossEntropy,
} satisfies Record<string, ReferenceOp>;
