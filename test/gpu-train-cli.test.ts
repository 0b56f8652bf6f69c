// `archc train` on the device, end to end: the loss falls, a resumed run repeats the uninterrupted
// run's losses exactly, the checkpoint is what an independent safetensors reader sees, and
// generate samples from it. Needs a WebGPU adapter; fails when there is none.

import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findModel, loadProgram } from "../compiler/frontend.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { loadCheckpoint } from "../runtime/checkpoint.js";
import { parseMetrics } from "../runtime/metrics.js";
import { archc, project, stepLosses } from "./train-cli-support.js";

describe("archc train on the device", () => {
  it("lowers the loss, resumes to the same losses, and writes checkpoints an independent reader sees", async () => {
    const { dir, arch } = project();
    const run = join(dir, "run");
    const first = await archc(["train", arch, "--plain", "--out", run]);
    expect(first.stderr, first.stderr).toMatch(/finished at step 20/);
    expect(first.exitCode).toBe(0);
    expect(first.stderr).toMatch(/kernels per training step in one submission/);
    const whole = stepLosses(run);
    expect([...whole.keys()]).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const early = (whole.get(1)! + whole.get(2)!) / 2;
    const late = (whole.get(19)! + whole.get(20)!) / 2;
    expect(late).toBeLessThan(early - 0.5);
    const records = parseMetrics(readFileSync(join(run, "metrics.jsonl"), "utf8"));
    expect(records.find((r) => r.type === "header")?.engine).toBe("gpu");
    expect(records.filter((r) => r.type === "eval").length).toBeGreaterThanOrEqual(4);
    expect(records.find((r) => r.type === "step")?.grad_norm).toBeGreaterThan(0);

    // forget everything after step 10, then resume from ckpt-10
    rmSync(join(run, "ckpt-20"), { recursive: true });
    writeFileSync(join(run, "latest"), "ckpt-10\n");
    rmSync(join(run, "metrics.jsonl"));
    const resumed = await archc(["train", arch, "--plain", "--resume", run]);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const tail = stepLosses(run);
    expect([...tail.keys()]).toEqual(Array.from({ length: 10 }, (_, i) => i + 11));
    for (const [step, loss] of tail) expect(loss, `step ${step}`).toBe(whole.get(step));

    const model = findModel(loadProgram([arch]), "small");
    const params = lowerModel(model, { batch: 1, seq: 1 }).params;
    const checkpoint = join(run, "ckpt-20");
    const loaded = loadCheckpoint(checkpoint, { optimizer: true });
    const files = [join(checkpoint, "model.safetensors"), join(checkpoint, "optimizer.safetensors")];
    const reader = join(__dirname, "tools", "read_safetensors.py");
    const seen = JSON.parse(execFileSync("python3", [reader, ...files], { encoding: "utf8" }));
    expect(Object.keys(seen[files[0]].tensors).sort()).toEqual(params.map((p) => p.name).sort());
    for (const p of params) {
      const tensor = seen[files[0]].tensors[p.name];
      const values = loaded.params.get(p.name)!;
      expect(tensor.shape).toEqual(p.shape);
      expect(tensor.first).toEqual(Array.from(values.subarray(0, 4)));
      expect(tensor.sum).toBeCloseTo(
        values.reduce((a, b) => a + b, 0),
        4,
      );
    }
    expect(Object.keys(seen[files[1]].tensors).length).toBe(2 * params.length);

    const text = await archc(["generate", run, "--prompt", "the cat", "--tokens", "8", "--temperature", "0"]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout.startsWith("the cat")).toBe(true);
    // decoded on the GPU by default; the float64 reference decoder picks the same tokens
    const sampled = ["generate", run, "--prompt", "the cat", "--tokens", "16", "--seed", "4"];
    const onGpu = await archc(sampled);
    const onCpu = await archc([...sampled, "--decoder", "cpu"]);
    expect(onGpu.exitCode).toBe(0);
    expect(onGpu.stdout).toBe(onCpu.stdout);
    expect((await archc(["generate", run, "--prompt", "x", "--decoder", "tpu"])).stderr).toMatch(
      /--decoder must be gpu or cpu/,
    );
  }, 300_000);
});
