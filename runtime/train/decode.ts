// Autoregressive generation against a Decoder, so a KV-cache implementation (CPU or GPU) plugs in.

import { TokenSampler, type SamplingOptions } from "./sample.js";

export type { Decoder, Logits } from "../../format/decoder.js";
import type { Decoder } from "../../format/decoder.js";

export interface GenerateOptions extends SamplingOptions {
  maxTokens: number;
  seed: number;
  /** called with each new token as soon as it is chosen (for streaming output) */
  onToken?: (id: number) => void;
}

/** Generates up to maxTokens ids after the prompt; when the context fills, keeps its newest half. */
export async function generate(
  decoder: Decoder,
  prompt: readonly number[],
  options: GenerateOptions,
): Promise<number[]> {
  if (prompt.length === 0) throw new Error("generation needs a prompt of at least one token");
  const sampler = new TokenSampler(options, options.seed);
  let window = prompt.slice(-decoder.context);
  let logits = await decoder.prefill(window);
  const generated: number[] = [];
  while (generated.length < options.maxTokens) {
    const id = sampler.next(logits);
    generated.push(id);
    options.onToken?.(id);
    if (generated.length === options.maxTokens) break;
    if (window.length < decoder.context) {
      window.push(id);
      logits = await decoder.decodeNext(id);
    } else {
      // re-reading the newest half, rather than sliding by one, keeps re-prefills rare
      window = [...window.slice(window.length - Math.floor(decoder.context / 2) + 1), id];
      logits = await decoder.prefill(window);
    }
  }
  return generated;
}
