// A CPU KV-cache decoder for any lowered model, in float64. It runs the model's graph lowered for
// one position (batch 1, seq 1) once per token: every op that acts on a single position is the
// reference implementation itself; the three ops that see across positions are replaced by
// position-aware versions: add_positions and rope use the token's true position, and attention
// appends the token's key and value to a per-node cache and attends over all of it.

import type { Graph, Node } from "../ir/ir.js";
import { lowerModel } from "../ir/lower.js";
import type { ModelSpec } from "../../format/spec.js";
import { evaluateNode } from "./evaluate.js";
import { ropeHead } from "../ops/rope/reference.js";
import { fromInts, zerosF, type Tensor } from "./tensor.js";
import type { Decoder, Logits } from "../../format/decoder.js";

function attr(node: Node, key: string): number {
  return Number(node.attrs[key]);
}

interface KvCache {
  keys: Float64Array;
  values: Float64Array;
}

/** The nodes the logits depend on: the loss (and anything else) is never evaluated. */
function ancestorsOf(graph: Graph, output: number): Set<number> {
  const needed = new Set<number>([output]);
  for (let id = output; id >= 0; id--)
    if (needed.has(id)) for (const input of graph.nodes[id].inputs) needed.add(input);
  return needed;
}

export class KvCacheDecoder implements Decoder {
  readonly context: number;
  private readonly graph: Graph;
  private readonly needed: Set<number>;
  private readonly paramTensors = new Map<number, Tensor>();
  private caches = new Map<number, KvCache>();
  private position = 0;

  constructor(
    private readonly model: ModelSpec,
    params: ReadonlyMap<string, Float32Array | Float64Array>,
  ) {
    this.context = model.context;
    this.graph = lowerModel(model, { batch: 1, seq: 1 });
    this.needed = ancestorsOf(this.graph, this.graph.outputs.logits);
    for (const node of this.graph.nodes) {
      if (node.op !== "param") continue;
      const name = String(node.attrs.name);
      const values = params.get(name);
      if (!values)
        throw new Error(`the checkpoint has no parameter "${name}" that model ${model.name} needs`);
      if (values.length !== node.type.shape.reduce((n, d) => n * d, 1))
        throw new Error(
          `parameter "${name}" has ${values.length} values, model ${model.name} needs shape [${node.type.shape}]`,
        );
      this.paramTensors.set(node.id, { type: node.type, data: Float64Array.from(values) });
    }
  }

  async prefill(ids: readonly number[]): Promise<Logits> {
    if (ids.length === 0) throw new Error("prefill needs at least one token");
    this.caches = new Map();
    this.position = 0;
    let logits: Logits | undefined;
    for (const id of ids) logits = this.advance(id);
    return logits!;
  }

  async decodeNext(id: number): Promise<Logits> {
    return this.advance(id);
  }

  private advance(id: number): Logits {
    if (this.position >= this.context)
      throw new Error(`position ${this.position} is past the context ${this.context}`);
    if (!(id >= 0 && id < this.model.vocab))
      throw new Error(`token ${id} is outside the vocabulary [0, ${this.model.vocab})`);
    const values: Tensor[] = [];
    for (const node of this.graph.nodes) {
      if (!this.needed.has(node.id)) continue;
      const inputs = node.inputs.map((i) => values[i]);
      values[node.id] = this.evaluate(node, inputs, id);
    }
    this.position += 1;
    return values[this.graph.outputs.logits].data as Float64Array;
  }

  private evaluate(node: Node, inputs: Tensor[], id: number): Tensor {
    switch (node.op) {
      case "input":
        return fromInts([1, 1], [node.attrs.name === "tokens" ? id : 0]);
      case "param":
        return this.paramTensors.get(node.id)!;
      case "add_positions":
        return this.addPosition(node, inputs);
      case "rope":
        return this.rope(node, inputs[0]);
      case "attention":
        return this.attend(node, inputs);
      default:
        return evaluateNode(node, inputs);
    }
  }

  private addPosition(node: Node, [x, table]: Tensor[]): Tensor {
    const d = x.data.length;
    const out = zerosF(node.type.shape);
    for (let j = 0; j < d; j++) out.data[j] = x.data[j] + table.data[this.position * d + j];
    return out;
  }

  /** the reference rope's rotation, at the decoded token's position */
  private rope(node: Node, x: Tensor): Tensor {
    const heads = attr(node, "heads");
    const headDim = attr(node, "head_dim");
    const out = zerosF(node.type.shape);
    for (let h = 0; h < heads; h++)
      ropeHead(x.data, out.data, h * headDim, headDim, this.position, attr(node, "theta"));
    return out;
  }

  /** causal attention of this token's query over every cached key and value (grouped heads) */
  private attend(node: Node, [q, k, v]: Tensor[]): Tensor {
    const heads = attr(node, "heads");
    const kvHeads = attr(node, "kv_heads");
    const headDim = attr(node, "head_dim");
    const kvWidth = kvHeads * headDim;
    let cache = this.caches.get(node.id);
    if (!cache) {
      cache = {
        keys: new Float64Array(this.context * kvWidth),
        values: new Float64Array(this.context * kvWidth),
      };
      this.caches.set(node.id, cache);
    }
    cache.keys.set(k.data, this.position * kvWidth);
    cache.values.set(v.data, this.position * kvWidth);
    const length = this.position + 1;
    const groupSize = heads / kvHeads;
    const scale = 1 / Math.sqrt(headDim);
    const out = zerosF(node.type.shape);
    const scores = new Float64Array(length);
    for (let h = 0; h < heads; h++) {
      const kvBase = Math.floor(h / groupSize) * headDim;
      let max = -Infinity;
      for (let s = 0; s < length; s++) {
        let dot = 0;
        for (let j = 0; j < headDim; j++)
          dot += q.data[h * headDim + j] * cache.keys[s * kvWidth + kvBase + j];
        scores[s] = dot * scale;
        max = Math.max(max, scores[s]);
      }
      let sum = 0;
      for (let s = 0; s < length; s++) sum += scores[s] = Math.exp(scores[s] - max);
      for (let s = 0; s < length; s++) {
        const weight = scores[s] / sum;
        for (let j = 0; j < headDim; j++)
          out.data[h * headDim + j] += weight * cache.values[s * kvWidth + kvBase + j];
      }
    }
    return out;
  }
}
