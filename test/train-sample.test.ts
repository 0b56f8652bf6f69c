import { describe, expect, it } from "vitest";
import { BigramDecoder } from "../runtime/train/bigram-decoder.js";
import { generate, type Decoder } from "../runtime/train/decode.js";
import { argmax, samplingDistribution, TokenSampler } from "../runtime/train/sample.js";

const logits = Float32Array.from([0.5, 2.0, -1.0, 1.9, 0.0]);

describe("sampling", () => {
  it("top-k = 1 is argmax, whatever the temperature and seed", () => {
    for (let seed = 0; seed < 20; seed++)
      expect(new TokenSampler({ temperature: 1.7, topK: 1 }, seed).next(logits)).toBe(1);
  });

  it("temperature 0 is greedy, and a small temperature concentrates on the argmax", () => {
    expect(Array.from(samplingDistribution(logits, { temperature: 0, topK: 0 }))).toEqual([0, 1, 0, 0, 0]);
    const cold = samplingDistribution(logits, { temperature: 0.01, topK: 0 });
    expect(cold[1]).toBeGreaterThan(0.99);
    const warm = samplingDistribution(logits, { temperature: 1, topK: 0 });
    expect(warm[1]).toBeLessThan(0.5);
  });

  it("temperature 1 without top-k is the softmax", () => {
    const p = samplingDistribution(logits, { temperature: 1, topK: 0 });
    const z = Array.from(logits).reduce((s, x) => s + Math.exp(x), 0);
    Array.from(logits).forEach((x, i) => expect(p[i]).toBeCloseTo(Math.exp(x) / z, 12));
  });

  it("top-k keeps exactly the k most likely tokens", () => {
    const p = samplingDistribution(logits, { temperature: 1, topK: 2 });
    expect(Array.from(p, (x) => x > 0)).toEqual([false, true, false, true, false]);
    expect(p[1] + p[3]).toBeCloseTo(1, 12);
    const sampler = new TokenSampler({ temperature: 1, topK: 2 }, 3);
    for (let i = 0; i < 200; i++) expect([1, 3]).toContain(sampler.next(logits));
  });

  it("draws match the distribution and repeat for the same seed", () => {
    const draw = (seed: number) => {
      const sampler = new TokenSampler({ temperature: 1, topK: 0 }, seed);
      return Array.from({ length: 4000 }, () => sampler.next(logits));
    };
    const a = draw(5);
    expect(draw(5)).toEqual(a);
    expect(draw(6)).not.toEqual(a);
    const p = samplingDistribution(logits, { temperature: 1, topK: 0 });
    for (let id = 0; id < logits.length; id++) {
      const frequency = a.filter((x) => x === id).length / a.length;
      expect(Math.abs(frequency - p[id])).toBeLessThan(0.03);
    }
  });

  it("argmax takes the first of equal maxima", () => {
    expect(argmax([1, 3, 3, 0])).toBe(1);
  });
});

describe("generation loop", () => {
  it("follows a bigram table greedily", async () => {
    const vocab = 4;
    const table = new Float32Array(vocab * vocab);
    for (let i = 0; i < vocab; i++) table[i * vocab + ((i + 1) % vocab)] = 5; // i -> i+1
    const out = await generate(new BigramDecoder(table, vocab), [2], {
      maxTokens: 6,
      temperature: 0,
      topK: 0,
      seed: 1,
    });
    expect(out).toEqual([3, 0, 1, 2, 3, 0]);
  });

  it("re-prefills with the newest tokens when the context fills, never exceeding it", async () => {
    const calls: string[] = [];
    let length = 0;
    const decoder: Decoder = {
      context: 4,
      prefill: async (ids) => {
        calls.push(`prefill ${ids.join(",")}`);
        length = ids.length;
        return Float32Array.from([0, 0, 0, 1]); // always picks 3
      },
      decodeNext: async (id) => {
        calls.push(`next ${id}`);
        length += 1;
        expect(length).toBeLessThanOrEqual(4);
        return Float32Array.from([0, 0, 0, 1]);
      },
    };
    const out = await generate(decoder, [0, 1, 2], { maxTokens: 4, temperature: 0, topK: 0, seed: 0 });
    expect(out).toEqual([3, 3, 3, 3]);
    // full after one token: keep the newest half (context/2 - 1 old tokens plus the new one)
    expect(calls).toEqual(["prefill 0,1,2", "next 3", "prefill 3,3", "next 3"]);
  });
});
