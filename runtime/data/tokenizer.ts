// Tokenizers: `bytes` (UTF-8 bytes, vocab 256) and `gpt2` (GPT-2 BPE through gpt-tokenizer).
// gpt-tokenizer loads a 50k-entry merge table, so it is imported only when asked for.

export type TokenizerName = "bytes" | "gpt2";

export interface Tokenizer {
  name: TokenizerName;
  vocabSize: number;
  encode(text: string): Int32Array | number[];
  decode(ids: ArrayLike<number>): string;
  /** ids appended after every document, so a model sees where one text ends and the next begins */
  documentSeparator: readonly number[];
}

const utf8Encoder = new TextEncoder();

export function bytesTokenizer(): Tokenizer {
  return {
    name: "bytes",
    vocabSize: 256,
    encode: (text) => Int32Array.from(utf8Encoder.encode(text)),
    decode: (ids) => {
      const bytes = new Uint8Array(ids.length);
      let n = 0;
      // ids a larger model vocab can sample but no byte stands for are dropped rather than wrapped
      for (let i = 0; i < ids.length; i++) if (ids[i] >= 0 && ids[i] < 256) bytes[n++] = ids[i];
      return new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(0, n));
    },
    documentSeparator: [10, 10],
  };
}

const GPT2_END_OF_TEXT = 50256;

export async function gpt2Tokenizer(): Promise<Tokenizer> {
  const bpe = await import("gpt-tokenizer/encoding/r50k_base");
  // Training text is data, not a prompt: "<|endoftext|>" in a file is just characters.
  const plainText = { disallowedSpecial: new Set<string>(), allowedSpecial: new Set<string>() };
  return {
    name: "gpt2",
    vocabSize: bpe.vocabularySize,
    encode: (text) => bpe.encode(text, plainText),
    decode: (ids) => bpe.decode(Array.from(ids).filter((id) => id >= 0 && id < bpe.vocabularySize)),
    documentSeparator: [GPT2_END_OF_TEXT],
  };
}

export async function loadTokenizer(name: string): Promise<Tokenizer> {
  if (name === "bytes") return bytesTokenizer();
  if (name === "gpt2") return gpt2Tokenizer();
  throw new Error(`unknown tokenizer "${name}" (known: bytes, gpt2)`);
}
