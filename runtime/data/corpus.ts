// A tokenised corpus split into train and validation token streams.
// Split rule: with 20 or more documents, every 20th document (indices 19, 39, ...) is validation;
// with fewer, the last 5% of the token stream is. Both are fixed by the document order alone.

import { TokenBuffer, type TokenArray } from "./token-buffer.js";
import type { DocumentSource } from "./documents.js";
import { brownDocuments, textDocuments } from "./documents.js";
import type { Tokenizer } from "./tokenizer.js";

export interface Corpus {
  description: string;
  tokenizer: Tokenizer["name"];
  train: TokenArray;
  validation: TokenArray;
}

export const VALIDATION_EVERY_NTH_DOCUMENT = 20;
export const VALIDATION_TAIL_FRACTION = 0.05;

export function tokenizeCorpus(source: DocumentSource, tokenizer: Tokenizer): Corpus {
  const byDocument = source.names.length >= VALIDATION_EVERY_NTH_DOCUMENT;
  const train = new TokenBuffer(tokenizer.vocabSize);
  const validation = new TokenBuffer(tokenizer.vocabSize);
  for (let i = 0; i < source.names.length; i++) {
    const target =
      byDocument && i % VALIDATION_EVERY_NTH_DOCUMENT === VALIDATION_EVERY_NTH_DOCUMENT - 1
        ? validation
        : train;
    target.append(tokenizer.encode(source.read(i)));
    target.append(tokenizer.documentSeparator);
  }
  if (byDocument)
    return {
      description: source.description,
      tokenizer: tokenizer.name,
      train: train.finish(),
      validation: validation.finish(),
    };
  const all = train.finish();
  const cut = all.length - Math.max(1, Math.floor(all.length * VALIDATION_TAIL_FRACTION));
  return {
    description: source.description,
    tokenizer: tokenizer.name,
    // subarrays share one buffer: the stream is stored once
    train: all.subarray(0, cut),
    validation: all.subarray(cut),
  };
}

/** `data` from a train block: "brown" for the bundled corpus, otherwise a file or folder path. */
export function documentsFor(data: string): DocumentSource {
  return data === "brown" ? brownDocuments() : textDocuments(data);
}

export function loadCorpus(data: string, tokenizer: Tokenizer): Corpus {
  return tokenizeCorpus(documentsFor(data), tokenizer);
}
