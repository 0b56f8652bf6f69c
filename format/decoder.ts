// What generation drives: a model that turns a growing token sequence into next-token logits. The
// float64 CPU decoders (compiler/reference) and the device decoder (runtime/decode) implement it,
// and the sampling loop (runtime/train/decode.ts) works with any of them.

export type Logits = Float32Array | Float64Array;

export interface Decoder {
  /** longest sequence the model accepts */
  readonly context: number;
  /** starts a new sequence from `ids` (dropping any previous state); logits for the next token */
  prefill(ids: readonly number[]): Promise<Logits>;
  /** appends one token to the sequence; logits for the token after it */
  decodeNext(id: number): Promise<Logits>;
  dispose?(): void;
}
