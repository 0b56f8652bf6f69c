import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  listCheckpoints,
  loadCheckpoint,
  resolveCheckpoint,
  saveCheckpoint,
  type TrainingState,
} from "../runtime/checkpoint.js";
import type { ModelSpec, TrainSpec } from "../format/spec.js";

const model = { name: "tiny", vocab: 8, context: 4, dim: 2, fields: {} } as unknown as ModelSpec;
const train = { name: "t", model: "tiny", steps: 10, seed: 1 } as unknown as TrainSpec;
const info = {
  model,
  train,
  tokenizer: "bytes",
  engine: "test",
  data: { source: "memory", seed: 1, nextStep: 0 },
};

const shapes = new Map<string, number[]>([
  ["embed.weight", [8, 2]],
  ["layers.0.attn.wq", [2, 2]],
]);

function state(step: number, scale: number): TrainingState {
  const fill = (offset: number) =>
    new Map(
      [...shapes].map(([name, shape]) => [
        name,
        Float32Array.from({ length: shape[0] * shape[1] }, (_, i) => scale * (i + offset) + 0.1),
      ]),
    );
  return { step, params: fill(0), m: fill(100), v: fill(200) };
}

describe("checkpoints", () => {
  it("round-trips parameters, moments and state, and points latest at the newest", () => {
    const run = mkdtempSync(join(tmpdir(), "archc-ckpt-"));
    saveCheckpoint(run, state(5, 1), shapes, info);
    const dir = saveCheckpoint(run, state(10, 2), shapes, { ...info, lastLoss: 1.25 });
    expect(dir).toBe(join(run, "ckpt-10"));
    expect(readFileSync(join(run, "latest"), "utf8").trim()).toBe("ckpt-10");
    expect(resolveCheckpoint(run)).toBe(dir);
    expect(listCheckpoints(run).map((c) => c.step)).toEqual([5, 10]);
    const loaded = loadCheckpoint(dir, { optimizer: true });
    const expected = state(10, 2);
    expect(loaded.info.step).toBe(10);
    expect(loaded.info.lastLoss).toBe(1.25);
    expect(loaded.info.model.name).toBe("tiny");
    expect(loaded.info.archcVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(loaded.shapes.get("embed.weight")).toEqual([8, 2]);
    for (const name of shapes.keys()) {
      expect(loaded.params.get(name)).toEqual(expected.params.get(name));
      expect(loaded.m!.get(name)).toEqual(expected.m.get(name));
      expect(loaded.v!.get(name)).toEqual(expected.v.get(name));
    }
  });

  it("writes model.safetensors that an independent reader sees exactly", () => {
    const run = mkdtempSync(join(tmpdir(), "archc-ckpt-"));
    const dir = saveCheckpoint(run, state(3, 0.5), shapes, info);
    const reader = join(__dirname, "tools", "read_safetensors.py");
    const files = [join(dir, "model.safetensors"), join(dir, "optimizer.safetensors")];
    const seen = JSON.parse(execFileSync("python3", [reader, ...files], { encoding: "utf8" }));
    const written = state(3, 0.5);
    const model = seen[files[0]];
    expect(model.metadata.model).toBe("tiny");
    expect(Object.keys(model.tensors).sort()).toEqual([...shapes.keys()].sort());
    for (const [name, shape] of shapes) {
      expect(model.tensors[name].shape).toEqual(shape);
      expect(model.tensors[name].dtype).toBe("F32");
      expect(model.tensors[name].sum).toBeCloseTo(
        Array.from(written.params.get(name)!).reduce((a, b) => a + b, 0),
        5,
      );
      expect(model.tensors[name].first).toEqual(Array.from(written.params.get(name)!.subarray(0, 4)));
    }
    expect(Object.keys(seen[files[1]].tensors).sort()).toEqual([
      "m.embed.weight",
      "m.layers.0.attn.wq",
      "v.embed.weight",
      "v.layers.0.attn.wq",
    ]);
  });

  it("never shows a partial checkpoint: a failed save leaves the previous one as latest", () => {
    const run = mkdtempSync(join(tmpdir(), "archc-ckpt-"));
    const good = saveCheckpoint(run, state(5, 1), shapes, info);
    const broken = state(10, 1);
    // the optimizer file fails after model.safetensors was already written
    broken.v.set("layers.0.attn.wq", new Float32Array(3));
    expect(() => saveCheckpoint(run, broken, shapes, info)).toThrow(/needs 16/);
    expect(existsSync(join(run, "ckpt-10"))).toBe(false);
    expect(readdirSync(run).sort()).toEqual(["ckpt-5", "latest"]);
    expect(resolveCheckpoint(run)).toBe(good);
  });

  it("replaces a checkpoint saved twice at the same step", () => {
    const run = mkdtempSync(join(tmpdir(), "archc-ckpt-"));
    saveCheckpoint(run, state(7, 1), shapes, info);
    saveCheckpoint(run, state(7, 3), shapes, info);
    expect(readdirSync(run).sort()).toEqual(["ckpt-7", "latest"]);
    expect(loadCheckpoint(join(run, "ckpt-7"), { optimizer: false }).params.get("embed.weight")).toEqual(
      state(7, 3).params.get("embed.weight"),
    );
  });

  it("resolves nothing for a directory without checkpoints", () => {
    expect(resolveCheckpoint(mkdtempSync(join(tmpdir(), "archc-ckpt-")))).toBeUndefined();
  });
});
