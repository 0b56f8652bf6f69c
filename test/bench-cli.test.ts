// `archc bench`: a smoke test on the software adapter at tiny size, with no assertion on speed. It
// checks that the JSON holds every figure, that times are positive, that --compare puts a ratio of
// 1 on the first model, and that --print-spec hands torch_ref.py the models it needs.
// Needs a WebGPU adapter (the software driver in CI).

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./cli-support.js";

const archc = (args: string[]) => runCli([import("../cli/bench.js")], args);

const TINY = "bench/models/tiny.arch";
const TINY_BLOCK = "bench/models/tiny-block4.arch";

function positive(value: unknown): void {
  expect(typeof value).toBe("number");
  expect(value as number).toBeGreaterThan(0);
  expect(Number.isFinite(value as number)).toBe(true);
}

describe("archc bench", () => {
  it("prints the checked models, their parameters and FLOPs with --print-spec", async () => {
    const r = await archc([
      "bench",
      TINY,
      "--compare",
      TINY_BLOCK,
      "--print-spec",
      "--batch",
      "2",
      "--seq",
      "16",
    ]);
    expect(r.exitCode).toBe(0);
    const spec = JSON.parse(r.stdout);
    expect(spec.format).toBe("archc-bench-spec");
    expect([spec.batch, spec.seq, spec.train.batch, spec.train.seq]).toEqual([2, 16, 2, 16]);
    expect(spec.models.map((m: { label: string }) => m.label)).toEqual(["bench_tiny", "bench_tiny_block4"]);
    const [add, block] = spec.models;
    expect(add.model.residual.kind).toBe("add");
    expect(block.model.residual).toMatchObject({ kind: "attn", blocks: 4 });
    const names = block.params.map((p: { name: string }) => p.name);
    expect(names).toContain("embed.tokens");
    expect(names).toContain("layers.0.attn.res.query");
    expect(names).toContain("final.res.key_gain");
    expect(add.flops.trainStep).toBeCloseTo(3 * add.flops.forwardTotal);
    expect(block.flops.forward.attnres).toBeGreaterThan(0);
  });

  it("stops with the device's limit, not an internal error, when the model does not fit", async () => {
    // logits of 384 tokens over a 2^21 vocabulary: 3 GiB, over any device's storage-binding limit
    const dir = mkdtempSync(join(tmpdir(), "archc-bench-"));
    const file = join(dir, "huge.arch");
    writeFileSync(
      file,
      `import "${resolve(TINY)}"\nmodel huge_vocab extends bench_tiny { vocab: 2097152 context: 512 }\n`,
    );
    const r = await archc(["bench", file, "--batch", "1", "--seq", "384", "--steps", "1"]);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/does not fit this device/);
  });

  it("rejects --train with --infer, and a bad --steps, as usage errors", async () => {
    expect((await archc(["bench", TINY, "--train", "--infer"])).exitCode).toBe(2);
    expect((await archc(["bench", TINY, "--infer", "--decode"])).exitCode).toBe(2);
    const bad = await archc(["bench", TINY, "--steps", "0"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--steps/);
  });

  it("times training steps of two models interleaved, with ratios to the first", async () => {
    const r = await archc([
      "bench",
      TINY,
      // compared with itself: a second model costs no new pipelines on a cold software driver
      "--compare",
      TINY,
      "--steps",
      "2",
      "--warmup",
      "0",
      "--round",
      "1",
      "--profile-repeats",
      "1",
      "--json",
      "-",
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.exitCode).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ format: "archc-bench", mode: "train", batch: 2, seq: 32, steps: 2 });
    expect(result.adapter.name).toEqual(expect.any(String));
    // no tuning file names this adapter (unless the environment names one): the default variants
    if (process.env.ARCHC_TUNING === undefined) expect(result.adapter.tuning).toBeNull();
    expect(["timestamp-query", "separate-submissions"]).toContain(result.profile.method);
    positive(result.peak.gflops);
    expect(result.models).toHaveLength(2);
    for (const m of result.models) {
      for (const key of [
        "parameters",
        "firstStepMs",
        "stepMs",
        "tokensPerS",
        "forwardMs",
        "backwardMs",
        "optimizerMs",
        "profileMs",
        "deviceBytes",
        "dispatchesPerStep",
        "submissionsPerStep",
        "flopsPerStep",
        "achievedGflops",
        "flopsUtilisation",
        "bytesPerStep",
        "achievedGbps",
      ])
        positive(m[key]);
      expect(m.roundStepMs).toHaveLength(2);
      expect(m.tokensPerStep).toBe(64);
      // one submission per training step
      expect(m.submissionsPerStep).toBe(1);
      expect(m.kernels.length).toBeGreaterThan(0);
      const phases = new Set(m.kernels.map((k: { phase: string }) => k.phase));
      expect([...phases].sort()).toEqual(["backward", "forward", "optimizer"]);
      const shares = m.kernels.reduce((n: number, k: { share: number }) => n + k.share, 0);
      expect(shares).toBeCloseTo(1, 5);
    }
    const [base, block] = result.models;
    for (const value of Object.values(base.ratio)) expect(value).toBe(1);
    expect(block.ratio.stepMs).toBeCloseTo(block.stepMs / base.stepMs);
    expect(block.label).toBe("bench_tiny (2)");
    expect(block.dispatchesPerStep).toBe(base.dispatchesPerStep);
    // the table went to stderr with --json -
    expect(r.stderr).toMatch(/\| bench_tiny \|/);
  }, 900_000); // cold: the software driver compiles every pipeline of the model first

  it("times the forward pass alone with --infer, profiled with one submission per kernel", async () => {
    const r = await archc([
      "bench",
      TINY,
      "--infer",
      "--steps",
      "2",
      "--warmup",
      "0",
      "--profile-repeats",
      "1",
      "--no-timestamps",
      "--json",
      "-",
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.exitCode).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.mode).toBe("infer");
    expect(result.profile.method).toBe("separate-submissions");
    const [m] = result.models;
    for (const key of ["stepMs", "tokensPerS", "forwardMs", "deviceBytes", "flopsPerStep", "achievedGflops"])
      positive(m[key]);
    expect(m.backwardMs).toBeNull();
    expect(m.optimizerMs).toBeNull();
    expect(m.kernels.every((k: { phase: string }) => k.phase === "forward")).toBe(true);
    expect(m.flopsPerStep).toBeCloseTo(
      m.forwardFlops.matmul + m.forwardFlops.attention + m.forwardFlops.attnres,
    );
    expect(m.ratio.stepMs).toBe(1);
  }, 600_000);

  it("times decoding with --decode at batch 1 and 16, one submission and readback per token", async () => {
    const r = await archc([
      "bench",
      TINY,
      // compared with itself: a second model costs no new pipelines on a cold software driver
      "--compare",
      TINY,
      "--decode",
      "--seq",
      "6",
      "--steps",
      "8",
      "--warmup",
      "0",
      "--profile-repeats",
      "1",
      "--json",
      "-",
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.exitCode).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ mode: "decode", seq: 6 });
    expect(result.models.map((m: { label: string; batch: number }) => [m.label, m.batch])).toEqual([
      ["bench_tiny", 1],
      ["bench_tiny (2)", 1],
      ["bench_tiny", 16],
      ["bench_tiny (2)", 16],
    ]);
    for (const m of result.models) {
      for (const key of [
        "stepMs",
        "tokensPerS",
        "forwardMs",
        "deviceBytes",
        "flopsPerStep",
        "dispatchesPerStep",
      ])
        positive(m[key]);
      // a step decodes one token of each sequence
      expect(m.tokensPerStep).toBe(m.batch);
      expect(m.tokensPerS).toBeCloseTo((m.batch * 1000) / m.stepMs);
      expect(m.submissionsPerStep).toBe(1);
      expect(m.kernels.map((k: { kind: string }) => k.kind)).toContain("cached_attention");
    }
    // ratios compare models at the same batch size
    const [base1, other1, base16, other16] = result.models;
    expect(base1.ratio.stepMs).toBe(1);
    expect(base16.ratio.stepMs).toBe(1);
    expect(other1.ratio.stepMs).toBeCloseTo(other1.stepMs / base1.stepMs);
    expect(other16.ratio.stepMs).toBeCloseTo(other16.stepMs / base16.stepMs);
    // the caches are batch x context rows per layer: batch 16 holds more
    expect(base16.deviceBytes).toBeGreaterThan(base1.deviceBytes);
    expect(r.stderr).toMatch(/per-token latency/);
  }, 900_000);
});
