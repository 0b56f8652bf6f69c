import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findModel, loadProgram } from "../compiler/frontend.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { saveCheckpoint } from "../runtime/checkpoint.js";
import { initParams } from "../runtime/init.js";
import { generate } from "../runtime/train/decode.js";
import { KvCacheDecoder } from "../compiler/reference/kv-cache-decoder.js";
import { bytesTokenizer } from "../runtime/data/tokenizer.js";
import { archc, project, stepLosses } from "./train-cli-support.js";

describe("archc train --cpu-bigram and archc generate", () => {
  it("trains, refuses to overwrite a run, resumes to the same losses, and generates from the result", async () => {
    const { dir, arch } = project();
    const run = join(dir, "run");
    const first = await archc(["train", arch, "--cpu-bigram", "--plain", "--out", run]);
    expect(first.stderr).toMatch(/finished at step 20/);
    expect(first.exitCode).toBe(0);
    const whole = stepLosses(run);
    expect([...whole.keys()]).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    const again = await archc(["train", arch, "--cpu-bigram", "--plain", "--out", run]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/already holds checkpoints; continue it with --resume/);

    // forget everything after step 10, then resume from ckpt-10
    rmSync(join(run, "ckpt-20"), { recursive: true });
    writeFileSync(join(run, "latest"), "ckpt-10\n");
    rmSync(join(run, "metrics.jsonl"));
    const resumed = await archc(["train", arch, "--cpu-bigram", "--plain", "--resume", run]);
    expect(resumed.exitCode).toBe(0);
    expect(resumed.stderr).toMatch(/resuming at step 10\/20/);
    const tail = stepLosses(run);
    expect([...tail.keys()]).toEqual(Array.from({ length: 10 }, (_, i) => i + 11));
    for (const [step, loss] of tail) expect(loss).toBe(whole.get(step));
    expect(existsSync(join(run, "ckpt-20"))).toBe(true);

    const greedy = await archc([
      "generate",
      run,
      "--prompt",
      "the cat",
      "--tokens",
      "12",
      "--temperature",
      "0",
    ]);
    expect(greedy.exitCode).toBe(0);
    expect(greedy.stdout.startsWith("the cat")).toBe(true);
    const again2 = await archc([
      "generate",
      join(run, "ckpt-20"),
      "--prompt",
      "the cat",
      "--tokens",
      "12",
      "--temperature",
      "0",
    ]);
    expect(again2.stdout).toBe(greedy.stdout);
  });

  it("generates from a model checkpoint with the KV-cache decoder, greedy and seeded", async () => {
    const { dir, arch } = project();
    const result = loadProgram([arch]);
    const model = findModel(result, "small");
    const train = result.program.trains.get("quick")!;
    const graph = lowerModel(model, { batch: 1, seq: 1 });
    const params = initParams(graph.params, 5);
    const zeros = new Map([...params].map(([name, values]) => [name, new Float32Array(values.length)]));
    const shapes = new Map(graph.params.map((p) => [p.name, p.shape]));
    const run = join(dir, "model-run");
    saveCheckpoint(run, { step: 0, params, m: zeros, v: zeros }, shapes, {
      model,
      train,
      tokenizer: "bytes",
      engine: "gpu",
      data: { source: "corpus", seed: 3, nextStep: 0 },
    });

    const tokenizer = bytesTokenizer();
    const expected = await generate(new KvCacheDecoder(model, params), Array.from(tokenizer.encode("Hi")), {
      maxTokens: 6,
      temperature: 0,
      topK: 0,
      seed: 0,
    });
    const greedy = await archc(["generate", run, "--prompt", "Hi", "--tokens", "6", "--temperature", "0"]);
    expect(greedy.exitCode).toBe(0);
    expect(greedy.stdout).toBe("Hi" + tokenizer.decode(expected) + "\n");
    const sampled = (seed: string) =>
      archc([
        "generate",
        run,
        "--prompt",
        "Hi",
        "--tokens",
        "20",
        "--top-k",
        "0",
        "--temperature",
        "1",
        "--seed",
        seed,
      ]);
    expect((await sampled("1")).stdout).toBe((await sampled("1")).stdout);
    expect((await sampled("1")).stdout).not.toBe((await sampled("2")).stdout);
  });

  it("refuses to resume with settings that would change the run", async () => {
    const { dir, arch } = project();
    const run = join(dir, "run");
    await archc(["train", arch, "--cpu-bigram", "--plain", "--out", run, "--steps", "10"]);
    const r = await archc(["train", arch, "--cpu-bigram", "--plain", "--resume", run, "--seed", "4"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /cannot resume .* with different settings:\n {2}seed: 3 in the checkpoint, 4 now/,
    );
  });

  it("reports usage errors and missing checkpoints as user errors", async () => {
    const { dir, arch } = project();
    expect((await archc(["train", arch, "--cpu-bigram", "--steps", "0"])).stderr).toMatch(
      /--steps must be an integer >= 1/,
    );
    expect((await archc(["train", arch, "--train", "nope"])).stderr).toMatch(
      /has no train block 'nope' \(it has: quick\)/,
    );
    const missing = await archc(["generate", join(dir, "nothing"), "--prompt", "x"]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/no checkpoint at/);
  });
});
