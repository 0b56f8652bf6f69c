// A correct but slow decoder for any lowered model: runs the float64 CPU reference interpreter on
// the whole sequence for every token (no KV cache). It defines what a fast decoder must match.

import type { Graph } from "../ir/ir.js";
import { lowerModel } from "../ir/lower.js";
import type { ModelSpec } from "../../format/spec.js";
import { runOutputs, type ParamValues } from "./interpreter.js";
import { fromInts } from "./tensor.js";
import type { Decoder, Logits } from "../../format/decoder.js";

export class ReferenceDecoder implements Decoder {
  readonly context: number;
  private ids: number[] = [];
  private readonly graphs = new Map<number, Graph>();

  constructor(
    private readonly model: ModelSpec,
    private readonly params: ParamValues,
  ) {
    this.context = model.context;
  }

  async prefill(ids: readonly number[]): Promise<Logits> {
    this.ids = [...ids];
    return this.forward();
  }

  async decodeNext(id: number): Promise<Logits> {
    this.ids.push(id);
    return this.forward();
  }

  private forward(): Logits {
    const seq = this.ids.length;
    if (seq > this.context) throw new Error(`sequence of ${seq} tokens exceeds the context ${this.context}`);
    let graph = this.graphs.get(seq);
    if (!graph) this.graphs.set(seq, (graph = lowerModel(this.model, { batch: 1, seq })));
    const feeds = {
      tokens: fromInts([1, seq], this.ids),
      targets: fromInts([1, seq], new Array(seq).fill(0)),
    };
    const logits = runOutputs(graph, feeds, this.params).logits;
    const vocab = this.model.vocab;
    return Float64Array.from(logits.data.subarray((seq - 1) * vocab, seq * vocab));
  }
}
