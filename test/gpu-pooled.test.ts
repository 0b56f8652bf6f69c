// Full AttnRes deep enough that its aggregations read more sources than WebGPU guarantees storage
// bindings for (8 per kernel): those kernels bind whole pools. Logits and loss on the device
// against the float64 interpreter. (The pooled backward kernels are checked by gpu-train.test.ts:
// at depth 4 the later AttnRes gradients already touch more than 8 values.) Needs a WebGPU
// adapter; fails when there is none.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileGraph } from "../compiler/compile.js";
import { MAX_VALUE_BINDINGS } from "../compiler/codegen/pooled.js";
import { lowerModel } from "../compiler/ir/lower.js";
import type { Graph } from "../compiler/ir/ir.js";
import type { ModelSpec } from "../format/spec.js";
import { limitViolations, limitsOf, setStorageBindingLimit } from "../runtime/buffers.js";
import type { GpuContext } from "../runtime/device.js";
import { runOutputs } from "../compiler/reference/interpreter.js";
import {
  openRealDevice,
  relativeError,
  runOnGpu,
  seededInts,
  seededValues,
  toTensor,
} from "./gpu-harness.js";

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await openRealDevice();
});
afterAll(() => gpu?.device.destroy());

const VOCAB = 17;
const DEPTH = 8; // 16 sublayers: the final aggregation reads 17 sources

const fullAttnRes: ModelSpec = {
  name: "deep_full",
  vocab: VOCAB,
  context: 8,
  dim: 8,
  norm: { kind: "rmsnorm", eps: 1e-5 },
  position: { kind: "rope", theta: 100 },
  tied: true,
  residual: {
    kind: "attn",
    blocks: null,
    keyNorm: true,
    score: "softmax",
    weights: "query",
    query: "vector",
  },
  layers: Array.from({ length: DEPTH }, () => ({
    block: "layer",
    sublayers: [
      { kind: "attention" as const, heads: 2, kvHeads: 2, headDim: 4 },
      { kind: "mlp" as const, mlp: "swiglu" as const, hidden: 12 },
    ],
  })),
  fields: {},
};

/** logits and loss on the device against the float64 interpreter, on seeded weights and tokens */
async function expectMatchesInterpreter(
  graph: Graph,
  batch: number,
  seq: number,
  seed: number,
): Promise<void> {
  const params = new Map(
    graph.params.map((p, i) => [
      p.name,
      seededValues(
        p.shape.reduce((a, b) => a * b, 1),
        seed + i,
        0.5,
      ),
    ]),
  );
  const tokens = seededInts(batch * seq, seed + 1000, VOCAB);
  const targets = seededInts(batch * seq, seed + 2000, VOCAB);
  const reference = runOutputs(
    graph,
    { tokens: toTensor([batch, seq], tokens), targets: toTensor([batch, seq], targets) },
    params,
  );
  const { outputs } = await runOnGpu(gpu, graph, { tokens, targets }, params, {
    outputs: ["logits", "loss"],
  });
  expect(relativeError(outputs.logits, reference.logits.data)).toBeLessThan(1e-4);
  expect(relativeError(outputs.loss, reference.loss.data)).toBeLessThan(1e-5);
}

describe("kernels over more values than storage bindings", () => {
  it("Full AttnRes over 17 sources: logits and loss match the interpreter", async () => {
    const [batch, seq] = [2, 5];
    const graph = lowerModel(fullAttnRes, { batch, seq });
    const exe = compileGraph(graph, { batch, seq, vocab: VOCAB });
    const pooled = exe.kernels.filter((k) => k.bindings.some((b) => "pool" in b));
    expect(pooled.length).toBeGreaterThan(0);
    expect(Math.max(...exe.kernels.map((k) => k.bindings.length))).toBeLessThanOrEqual(MAX_VALUE_BINDINGS);

    await expectMatchesInterpreter(graph, batch, seq, 40);
  }, 300_000);

  it("pooled kernels bind byte ranges: the model runs under a binding limit smaller than its pools", async () => {
    const [batch, seq] = [2, 5];
    const graph = lowerModel(fullAttnRes, { batch, seq });
    const exe = compileGraph(graph, { batch, seq, vocab: VOCAB });
    const poolBindings = exe.kernels.flatMap((k) => k.bindings.filter((b) => "pool" in b));
    const widestRange = Math.max(...poolBindings.map((b) => ("pool" in b ? b.size! : 0)));
    const widestValue = Math.max(...exe.values.map((v) => v.size));
    const budget = Math.max(widestRange, widestValue);
    const largestPool = Math.max(...exe.pools.map((p) => p.size));
    expect(budget).toBeLessThan(largestPool);

    // the same plan binding whole pools would not fit this budget
    const limits = { ...limitsOf(gpu.device), maxStorageBufferBindingSize: budget };
    expect(limitViolations(exe, limits)).toEqual([]);
    const wholePools = {
      ...exe,
      kernels: exe.kernels.map((k) => ({
        ...k,
        bindings: k.bindings.map((b) => ("pool" in b ? { pool: b.pool, access: b.access } : b)),
      })),
    };
    expect(limitViolations(wholePools, limits).join("\n")).toMatch(/binds the whole scratch pool/);

    setStorageBindingLimit(gpu.device, budget);
    await expectMatchesInterpreter(graph, batch, seq, 70);
  }, 300_000);
});
