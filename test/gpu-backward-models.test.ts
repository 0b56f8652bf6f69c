// Whole tiny models: parameter gradients of the differentiated graph, compiled and run on the
// device, against the float64 interpreter. Needs a WebGPU adapter; fails when there is none.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lowerModel } from "../compiler/ir/lower.js";
import type { ModelSpec, ResidualSpec } from "../compiler/spec.js";
import { differentiate } from "../compiler/passes/autodiff.js";
import type { GpuContext } from "../runtime/device.js";
import "../runtime/reference/all-ops.js";
import { runOutputs } from "../runtime/reference/interpreter.js";
import { randomIds, seededRandom } from "./gradcheck-support.js";
import { openRealDevice, relativeError, runOnGpu } from "./gpu-harness.js";

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await openRealDevice();
});
afterAll(() => gpu?.device.destroy());

const VOCAB = 11;
// a software driver spends minutes compiling the ~100 distinct pipelines of a forward+backward graph
const LAVAPIPE_COMPILE_BUDGET_MS = 480_000;

function tinyModel(residual: ResidualSpec): ModelSpec {
  return {
    name: "tiny",
    vocab: VOCAB,
    context: 8,
    dim: 12,
    norm: { kind: "rmsnorm", eps: 1e-5 },
    position: { kind: "rope", theta: 100 },
    tied: false,
    residual,
    layers: Array.from({ length: 4 }, () => ({
      block: "layer",
      sublayers: [
        { kind: "attention" as const, heads: 2, kvHeads: 1, headDim: 6 },
        { kind: "mlp" as const, mlp: "swiglu" as const, hidden: 20 },
      ],
    })),
    fields: {},
  };
}

const attn = (blocks: number | null): ResidualSpec => ({
  kind: "attn",
  blocks,
  keyNorm: true,
  score: "softmax",
  weights: "query",
  query: "vector",
});

async function expectGpuGradientsMatch(model: ModelSpec, seed: number): Promise<void> {
  const rand = seededRandom(seed);
  const graph = differentiate(lowerModel(model, { batch: 2, seq: 5 }));
  const tokens = randomIds([2, 5], VOCAB, rand);
  const targets = randomIds([2, 5], VOCAB, rand);
  const params = new Map<string, Float32Array>();
  for (const p of graph.params)
    params.set(
      p.name,
      Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => (rand() * 2 - 1) * 0.5),
    );
  const cpu = runOutputs(graph, { tokens, targets }, params);
  const names = graph.params.map((p) => `grad.${p.name}`);
  const { outputs } = await runOnGpu(
    gpu,
    graph,
    { tokens: Int32Array.from(tokens.data), targets: Int32Array.from(targets.data) },
    params,
    { outputs: ["loss", ...names] },
  );
  expect(relativeError(outputs.loss, cpu.loss.data)).toBeLessThan(1e-5);
  const worst = names
    .map((name) => ({ name, error: relativeError(outputs[name], cpu[name].data) }))
    .filter((e) => !(e.error <= 1e-3));
  expect(worst).toEqual([]);
}

describe("whole-model gradients on the device match the float64 interpreter", () => {
  it("baseline", () => expectGpuGradientsMatch(tinyModel({ kind: "add" }), 1), LAVAPIPE_COMPILE_BUDGET_MS);
  it("Full AttnRes", () => expectGpuGradientsMatch(tinyModel(attn(null)), 2), LAVAPIPE_COMPILE_BUDGET_MS);
  it("Block AttnRes, N=2", () => expectGpuGradientsMatch(tinyModel(attn(2)), 3), LAVAPIPE_COMPILE_BUDGET_MS);
  it("Block AttnRes, N=4", () => expectGpuGradientsMatch(tinyModel(attn(4)), 4));
});
