// A growable token array in the narrowest integer type the vocabulary fits, so a 6 MB corpus
// tokenised to bytes costs 6 MB, not 24.

export type TokenArray = Uint8Array | Uint16Array | Int32Array;

export function tokenArrayFor(vocabSize: number, length: number): TokenArray {
  if (vocabSize <= 0x100) return new Uint8Array(length);
  if (vocabSize <= 0x10000) return new Uint16Array(length);
  return new Int32Array(length);
}

export class TokenBuffer {
  private data: TokenArray;
  private used = 0;

  constructor(
    private readonly vocabSize: number,
    initialCapacity = 1 << 16,
  ) {
    this.data = tokenArrayFor(vocabSize, initialCapacity);
  }

  get length(): number {
    return this.used;
  }

  append(ids: ArrayLike<number>): void {
    this.reserve(this.used + ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!(id >= 0 && id < this.vocabSize))
        throw new RangeError(`token id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
      this.data[this.used++] = id;
    }
  }

  /** The tokens, trimmed to size; the buffer must not be used afterwards. */
  finish(): TokenArray {
    const out = this.used === this.data.length ? this.data : this.data.slice(0, this.used);
    this.data = tokenArrayFor(this.vocabSize, 0);
    return out;
  }

  private reserve(capacity: number): void {
    if (capacity <= this.data.length) return;
    let next = this.data.length;
    while (next < capacity) next = Math.max(16, Math.ceil(next * 1.5));
    const grown = tokenArrayFor(this.vocabSize, next);
    grown.set(this.data.subarray(0, this.used));
    this.data = grown;
  }
}
