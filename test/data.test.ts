import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { joinSentence, brownFileToText } from "../runtime/data/brown-text.js";
import { loadCorpus, tokenizeCorpus, type Corpus } from "../runtime/data/corpus.js";
import { brownDocuments, textDocuments, type DocumentSource } from "../runtime/data/documents.js";
import { Rng } from "../runtime/data/rng.js";
import { BatchSampler, validationBatches } from "../runtime/data/sampler.js";
import { bytesTokenizer, gpt2Tokenizer } from "../runtime/data/tokenizer.js";

function memoryDocuments(texts: string[]): DocumentSource {
  return { description: "memory", names: texts.map((_, i) => `doc${i}`), read: (i) => texts[i] };
}

describe("Brown text", () => {
  it("drops tags and spaces punctuation like running text", () => {
    const tokens = "``/`` Only/rb a/at handful/nn ''/'' ,/, the/at jury/nn said/vbd (/( 1/2/cd )/) ./.".split(
      " ",
    );
    expect(joinSentence(tokens)).toBe('"Only a handful", the jury said (1/2).');
  });

  it("keeps paragraph breaks and joins the sentences of a paragraph", () => {
    const file = "\n\n\tOne/cd ./.\nTwo/cd !/.\n\n\n\tThree/cd ?/.\n";
    expect(brownFileToText(file)).toBe("One. Two!\nThree?");
  });

  it("lists the 500 Brown documents in a fixed order", () => {
    const source = brownDocuments();
    expect(source.names.length).toBe(500);
    expect(source.names[0]).toBe("ca01");
    expect(source.read(0)).toMatch(/^The Fulton County Grand Jury said Friday/);
  });
});

describe("corpus split", () => {
  it("puts every 20th document in validation when there are 20 or more", () => {
    const texts = Array.from({ length: 40 }, (_, i) => String.fromCharCode(65 + (i % 26)).repeat(3));
    const corpus = tokenizeCorpus(memoryDocuments(texts), bytesTokenizer());
    const decode = (c: Corpus["train"]) => bytesTokenizer().decode(c);
    expect(decode(corpus.validation)).toBe("TTT\n\nNNN\n\n"); // documents 19 and 39
    expect(decode(corpus.train)).not.toContain("TTT");
    expect(corpus.train.length + corpus.validation.length).toBe(40 * 5);
  });

  it("holds back the last 5% of tokens when there are few documents", () => {
    const corpus = tokenizeCorpus(memoryDocuments(["a".repeat(198)]), bytesTokenizer());
    expect(corpus.validation.length).toBe(10);
    expect(corpus.train.length).toBe(190);
  });

  it("reads a folder's text files recursively in sorted order and ignores other files", () => {
    const dir = mkdtempSync(join(tmpdir(), "archc-data-"));
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "b.txt"), "second");
    writeFileSync(join(dir, "a.md"), "first");
    writeFileSync(join(dir, "sub", "c.txt"), "third");
    writeFileSync(join(dir, "image.png"), "not text");
    const source = textDocuments(dir);
    expect(source.names).toEqual(["a.md", "b.txt", join("sub", "c.txt")]);
    const corpus = loadCorpus(dir, bytesTokenizer());
    // 22 tokens: the last 5% (one token) is validation
    expect(bytesTokenizer().decode(corpus.train)).toBe("first\n\nsecond\n\nthird\n");
    expect(bytesTokenizer().decode(corpus.validation)).toBe("\n");
  });

  it("tokenises Brown to bytes in a byte array, same split every time", () => {
    const a = loadCorpus("brown", bytesTokenizer());
    expect(a.train).toBeInstanceOf(Uint8Array);
    expect(a.train.length).toBeGreaterThan(5_000_000);
    expect(a.validation.length).toBeGreaterThan(200_000);
    const b = tokenizeCorpus(brownDocuments(), bytesTokenizer());
    expect(Buffer.from(b.validation).equals(Buffer.from(a.validation))).toBe(true);
  });
});

describe("tokenizers", () => {
  const sample = 'The jury said, "café — naïve ☃ 東京".\n\nNext paragraph.';

  it("bytes round-trips any text and has vocab 256", () => {
    const tok = bytesTokenizer();
    expect(tok.vocabSize).toBe(256);
    const ids = tok.encode(sample);
    expect(Math.max(...ids)).toBeLessThan(256);
    expect(tok.decode(ids)).toBe(sample);
  });

  it("gpt2 round-trips, has vocab 50257, and treats <|endoftext|> in data as text", async () => {
    const tok = await gpt2Tokenizer();
    expect(tok.vocabSize).toBe(50257);
    expect(Array.from(tok.encode("Hello world"))).toEqual([15496, 995]);
    expect(tok.decode(tok.encode(sample))).toBe(sample);
    const special = Array.from(tok.encode("<|endoftext|>"));
    expect(special).not.toContain(50256);
    expect(tok.decode(special)).toBe("<|endoftext|>");
  });
});

describe("batch sampler", () => {
  const stream = Uint16Array.from({ length: 5000 }, (_, i) => (i * 7919) % 60000);

  it("gives targets shifted by one from tokens", () => {
    const { tokens, targets } = new BatchSampler(stream, 4, 16, 1).batchAt(3);
    expect(tokens.length).toBe(64);
    for (let row = 0; row < 4; row++) {
      const start = stream.indexOf(tokens[row * 16]);
      for (let t = 0; t < 16; t++) {
        expect(tokens[row * 16 + t]).toBe(stream[start + t]);
        expect(targets[row * 16 + t]).toBe(stream[start + t + 1]);
      }
    }
  });

  it("is a function of (seed, step) alone, in any order of asking", () => {
    const forward = new BatchSampler(stream, 4, 16, 42);
    const first = [0, 1, 2, 3, 4, 5].map((s) => forward.batchAt(s).tokens);
    const fresh = new BatchSampler(stream, 4, 16, 42);
    expect(fresh.batchAt(5).tokens).toEqual(first[5]);
    expect(fresh.batchAt(2).tokens).toEqual(first[2]);
    expect(first[0]).not.toEqual(first[1]);
    expect(new BatchSampler(stream, 4, 16, 43).batchAt(0).tokens).not.toEqual(first[0]);
  });

  it("covers the whole stream, including the last window", () => {
    const small = Uint8Array.from({ length: 12 }, (_, i) => i);
    const sampler = new BatchSampler(small, 8, 10, 7);
    const seen = new Set<number>();
    for (let s = 0; s < 50; s++) {
      const { tokens } = sampler.batchAt(s);
      for (let row = 0; row < 8; row++) seen.add(tokens[row * 10]);
    }
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it("refuses a stream shorter than one window", () => {
    expect(() => new BatchSampler(new Uint8Array(10), 1, 10, 0)).toThrow(/fewer than one sequence/);
  });

  it("makes the same validation batches every time, spread over the split", () => {
    const a = validationBatches(stream, 2, 8, 3);
    const b = validationBatches(stream, 2, 8, 3);
    expect(a).toEqual(b);
    expect(a[0].tokens[0]).toBe(stream[0]);
    expect(a[2].targets[2 * 8 - 1]).toBe(stream[stream.length - 1]);
  });
});

describe("rng", () => {
  it("is reproducible per address and roughly uniform", () => {
    const a = new Rng(1, 2, 3);
    const b = new Rng(1, 2, 3);
    const xs = Array.from({ length: 10000 }, () => a.nextFloat());
    expect(xs).toEqual(Array.from({ length: 10000 }, () => b.nextFloat()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(new Rng(1, 2, 4).nextUint32()).not.toBe(new Rng(1, 2, 3).nextUint32());
  });
});
