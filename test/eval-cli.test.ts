// `archc eval` and the tokenizer choice of `archc run`. The device tests train a tiny Block AttnRes
// model for a few steps, then check that eval reproduces the logged validation losses, that --out
// holds the logits a float64 reference forward computes and depth weights that sum to one, and that
// bad input is a user error. Needs a WebGPU adapter (the software driver in CI).

import { Command } from "commander";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkTokenRange, parseTokenList, textBatches, tokensOfText } from "../cli/eval.js";
import { chooseTokenizer, GPT2_VOCAB_SIZE, tokenWindows } from "../cli/run.js";
import { UserError } from "../cli/common.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { loadCheckpoint } from "../runtime/checkpoint.js";
import { gpt2Tokenizer } from "../runtime/data/tokenizer.js";
import { parseMetrics } from "../runtime/metrics.js";
import { runOutputs } from "../compiler/reference/interpreter.js";
import { fromInts } from "../compiler/reference/tensor.js";
import { readSafetensors } from "../runtime/safetensors.js";
import { runCli } from "./cli-support.js";
import { tinySpec } from "./golden/specs.js";

const archc = (args: string[]) => runCli([import("../cli/train.js"), import("../cli/eval.js")], args);

const dir = mkdtempSync(join(tmpdir(), "archc-eval-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** what `archc <command> --help` prints, including the text after the options */
async function helpText(command: string): Promise<string> {
  const program = new Command().exitOverride();
  let text = "";
  program.configureOutput({ writeOut: (chunk) => (text += chunk) });
  (await import("../cli/eval.js")).register(program);
  await program.parseAsync(["node", "archc", command, "--help"]).catch(() => undefined);
  return text;
}

function expectUserError(fn: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(UserError);
  expect((thrown as Error).message).toMatch(message);
}

describe("eval input handling", () => {
  it("parses --tokens and rejects ids outside the vocabulary", () => {
    expect(Array.from(parseTokenList("1, 2,3  4", 10))).toEqual([1, 2, 3, 4]);
    expectUserError(
      () => parseTokenList("1,2,10", 10),
      /token id 10 at position 2 is outside the vocabulary \[0, 10\)/,
    );
    expectUserError(() => parseTokenList("1,x", 10), /'x' is not an integer/);
    expectUserError(() => parseTokenList(" , ", 10), /empty/);
    expectUserError(() => checkTokenRange(Int32Array.of(-1), 10, "t"), /-1/);
  });

  it("cuts ids into windows of seq+1 overlapping by one; the last batch may be smaller", () => {
    const ids = Int32Array.from({ length: 12 }, (_, i) => i);
    const { batches, unscored } = textBatches(ids, 2, 3, "t");
    // windows start at 0, 3, 6 (9 would need ids up to 12)
    expect(batches.map((b) => Array.from(b.tokens))).toEqual([
      [0, 1, 2, 3, 4, 5],
      [6, 7, 8],
    ]);
    expect(batches.map((b) => Array.from(b.targets))).toEqual([
      [1, 2, 3, 4, 5, 6],
      [7, 8, 9],
    ]);
    expect(unscored).toBe(2);
    expectUserError(
      () => textBatches(ids.subarray(0, 3), 2, 3, "short.txt"),
      /short.txt is 3 tokens.*seq\+1 = 4/,
    );
  });

  it("tokenises text with the checkpoint's tokenizer: GPT-2 BPE for a gpt2 model, bytes for bytes", async () => {
    const text = "Hello world";
    const gpt2Model = tinySpec({ vocab: GPT2_VOCAB_SIZE });
    const ids = await tokensOfText({ tokenizer: "gpt2", model: gpt2Model }, text, "t");
    expect(Array.from(ids)).toEqual(Array.from((await gpt2Tokenizer()).encode(text)));
    expect(ids.length).toBeLessThan(text.length);
    const bytes = await tokensOfText({ tokenizer: "bytes", model: tinySpec({ vocab: 256 }) }, text, "t");
    expect(Array.from(bytes)).toEqual(Array.from(Buffer.from(text)));
    // GPT-2 ids do not fit a small model's vocabulary
    await expect(
      tokensOfText({ tokenizer: "gpt2", model: tinySpec({ vocab: 256 }) }, text, "t"),
    ).rejects.toThrow(/outside the vocabulary/);
  });
});

describe("archc run's tokenizer", () => {
  it("follows the vocabulary unless told: gpt2 for GPT-2's vocabulary, bytes otherwise", async () => {
    expect(GPT2_VOCAB_SIZE).toBe((await gpt2Tokenizer()).vocabSize);
    expect(chooseTokenizer(undefined, 256)).toBe("bytes");
    expect(chooseTokenizer("auto", 1000)).toBe("bytes");
    expect(chooseTokenizer("auto", GPT2_VOCAB_SIZE)).toBe("gpt2");
    expect(chooseTokenizer("bytes", GPT2_VOCAB_SIZE)).toBe("bytes");
    expect(chooseTokenizer("gpt2", 50304)).toBe("gpt2");
    expectUserError(() => chooseTokenizer("gpt2", 256), /vocab is 256/);
    expectUserError(() => chooseTokenizer("bpe", 256), /bytes, gpt2 or auto/);
  });

  it("cuts token ids into wrapped windows", () => {
    const { tokens, targets, wrapped } = tokenWindows([5, 6, 7], 1, 4, 10);
    expect(Array.from(tokens)).toEqual([5, 6, 7, 5]);
    expect(Array.from(targets)).toEqual([6, 7, 5, 6]);
    expect(wrapped).toBe(true);
  });
});

describe("archc eval usage", () => {
  it("explains itself and rejects bad flags and missing checkpoints as user errors", async () => {
    const help = await helpText("eval");
    expect(help).toMatch(/validation split/);
    expect(help).toMatch(/--tokens <ids>/);
    expect(help).toMatch(/attnres\.<aggregation>\.weights/);

    const missing = await archc(["eval", join(dir, "nowhere")]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/no checkpoint at/);
    expect(missing.stderr).not.toMatch(/internal error|at .*\.ts/);

    const both = await archc(["eval", dir, "--text", "a", "--tokens", "1"]);
    expect(both.exitCode).toBe(2);
    const badOut = await archc(["eval", dir, "--out", "x.bin"]);
    expect(badOut.exitCode).toBe(2);
  });
});

/** A Block AttnRes model (two blocks of one layer) trained 4 steps on a small corpus. */
function project(): { arch: string; run: string } {
  mkdirSync(join(dir, "corpus"));
  const sentences = Array.from(
    { length: 200 },
    (_, i) => `Sentence ${i % 13} says the cat sat on mat ${i % 5}.`,
  );
  writeFileSync(join(dir, "corpus", "a.txt"), sentences.join("\n"));
  const arch = join(dir, "small.arch");
  writeFileSync(
    arch,
    `import std.transformer

model small extends gpt {
  context: 16
  dim: 16
  depth: 2
  heads: 2
  hidden: 2 * dim
  residual: attn(block = 2)
}

train quick {
  model: small
  data: "corpus"
  batch: 2
  seq: 8
  steps: 4
  eval_every: 2
  eval_batches: 2
  log_every: 1
  checkpoint_every: 2
  optimizer: adamw(lr = 1e-2)
  seed: 5
}
`,
  );
  return { arch, run: join(dir, "run") };
}

function referenceForward(checkpointDir: string, tokens: Int32Array, targets: Int32Array, seq: number) {
  const { info, params } = loadCheckpoint(checkpointDir, { optimizer: false });
  const shape = { batch: tokens.length / seq, seq };
  const graph = lowerModel(info.model, shape);
  const feeds = {
    tokens: fromInts([shape.batch, seq], tokens),
    targets: fromInts([shape.batch, seq], targets),
  };
  return runOutputs(graph, feeds, params);
}

describe("archc eval on the device", () => {
  let run = "";
  const valLoss = new Map<number, number>();
  beforeAll(async () => {
    const made = project();
    run = made.run;
    const trained = await archc(["train", made.arch, "--plain", "--out", run]);
    expect(trained.exitCode, trained.stderr).toBe(0);
    for (const r of parseMetrics(readFileSync(join(run, "metrics.jsonl"), "utf8")))
      if (r.type === "eval") valLoss.set(r.step as number, r.val_loss as number);
  }, 600_000); // a cold shader cache compiles every training kernel on the software driver

  it("prints the training run's validation loss for the latest checkpoint, as JSON too", async () => {
    const result = await archc(["eval", run, "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.step).toBe(4);
    expect(report.input).toBe("validation");
    expect(report.tokens).toBe(2 * 2 * 8);
    expect(Math.abs(report.loss - valLoss.get(4)!)).toBeLessThan(1e-5);
    expect(report.perplexity).toBeCloseTo(Math.exp(report.loss), 9);
  }, 300_000);

  it("--out writes the first validation batch's logits (as the reference computes them) and depth weights", async () => {
    const ckpt = join(run, "ckpt-2");
    const out = join(dir, "eval.safetensors");
    const result = await archc(["eval", ckpt, "--out", out, "--probe-seqs", "2"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const loss = Number(/loss ([\d.]+)/.exec(result.stdout)?.[1]);
    expect(Math.abs(loss - valLoss.get(2)!)).toBeLessThan(1e-5);

    const file = readSafetensors(out);
    const logits = file.tensors.get("logits")!;
    expect(logits.shape).toEqual([2, 8, 256]);
    const tokens = file.tensors.get("tokens")!.data as Int32Array;
    const targets = file.tensors.get("targets")!.data as Int32Array;
    const reference = referenceForward(ckpt, tokens, targets, 8);
    let worst = 0;
    logits.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(Number(v) - reference.logits.data[i]))));
    expect(worst).toBeLessThan(1e-4);

    const sources = JSON.parse(file.metadata["attnres.sources"]) as Record<string, string[]>;
    expect(sources.final).toEqual(["embedding", "block 1", "block 2"]);
    expect(sources["layers.0.mlp"]).toEqual(["embedding", "partial"]);
    expect(Object.keys(sources)).toHaveLength(5);
    for (const [name, names] of Object.entries(sources)) {
      const weights = file.tensors.get(`attnres.${name}.weights`)!;
      expect(weights.shape).toEqual([names.length]);
      expect(Array.from(weights.data as Float32Array).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    expect(file.tensors.get("depth.input_rms")!.shape).toEqual([4]);
    expect(file.metadata["depth.tokens"]).toBe("16");
  }, 300_000);

  it("--tokens scores every window, the last batch smaller, as the reference does", async () => {
    // 3 windows of 8+1 at batch 2: a batch of two windows and one of one; 2 tokens left unscored
    const ids = Array.from({ length: 27 }, (_, i) => (i * 37 + 11) % 256);
    const out = join(dir, "tokens.safetensors");
    const result = await archc([
      "eval",
      run,
      "--tokens",
      ids.join(","),
      "--batch",
      "2",
      "--json",
      "--out",
      out,
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect([report.batches, report.tokens, report.unscored_tokens]).toEqual([2, 24, 2]);
    const file = readSafetensors(out);
    expect(file.tensors.get("logits")!.shape).toEqual([3, 8, 256]);
    const windows = textBatches(Int32Array.from(ids), 3, 8, "t").batches[0];
    const reference = referenceForward(join(run, "ckpt-4"), windows.tokens, windows.targets, 8);
    expect(Math.abs(report.loss - reference.loss.data[0])).toBeLessThan(1e-4);

    const bad = await archc(["eval", run, "--tokens", "1,2,256,3"]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/token id 256 at position 2 is outside the vocabulary \[0, 256\)/);
    expect(bad.stderr).not.toMatch(/internal error/);

    const short = await archc(["eval", run, "--tokens", "1,2,3"]);
    expect(short.exitCode).toBe(1);
    expect(short.stderr).toMatch(/needs at least seq\+1 = 9/);
  }, 300_000);
});
