// The decoder of the CPU bigram demo: the next-token logits are the table row of the last token.

import type { Decoder, Logits } from "./decode.js";

export class BigramDecoder implements Decoder {
  readonly context = Number.MAX_SAFE_INTEGER;

  constructor(
    private readonly table: Float32Array,
    private readonly vocab: number,
  ) {}

  async prefill(ids: readonly number[]): Promise<Logits> {
    return this.row(ids[ids.length - 1]);
  }

  async decodeNext(id: number): Promise<Logits> {
    return this.row(id);
  }

  private row(id: number): Logits {
    return this.table.subarray(id * this.vocab, (id + 1) * this.vocab);
  }
}
