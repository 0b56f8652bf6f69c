// Whole models on the device against the float64 interpreter: baseline, Full AttnRes and Block
// AttnRes (N=2, N=4) on tiny configs, fused and unfused; and the kernel counts fusion saves.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Graph } from "../compiler/ir/ir.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { compileGraph } from "../compiler/compile.js";
import type { ResidualSpec } from "../format/spec.js";
import type { GpuContext } from "../runtime/device.js";
import { paramStream } from "../runtime/init.js";
import { runOutputs } from "../compiler/reference/interpreter.js";
import { blockRes, FULL, tinySpec } from "./golden/specs.js";
import { openRealDevice, relativeError, runOnGpu, seededInts, toTensor } from "./gpu-harness.js";

const batch = 2;
const seq = 8;
const vocab = 32;

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await openRealDevice();
});
afterAll(() => {
  gpu?.device.destroy();
});

/** parameters U(-0.3, 0.3): large enough that every layer visibly changes the logits */
function uniformParams(graph: Graph, seed: number): Map<string, Float32Array> {
  return new Map(
    graph.params.map((p) => {
      const next = paramStream(seed, p.name, p.shape);
      const values = new Float32Array(p.shape.reduce((x, y) => x * y, 1));
      for (let i = 0; i < values.length; i++) values[i] = (next() / 2 ** 32) * 0.6 - 0.3;
      return [p.name, values];
    }),
  );
}

const variants: [string, ResidualSpec][] = [
  ["baseline", { kind: "add" }],
  ["Full AttnRes", FULL],
  ["Block AttnRes N=2", blockRes(2)],
  ["Block AttnRes N=4", blockRes(4)],
];

describe("whole-model logits match the interpreter", () => {
  for (const [label, residual] of variants) {
    it(`${label}: vocab 32, dim 16, 4 layers, batch 2, seq 8`, async () => {
      const graph = lowerModel(tinySpec({ vocab, dim: 16, layers: 4, residual }), { batch, seq });
      const params = uniformParams(graph, 7);
      const tokens = seededInts(batch * seq, 11, vocab);
      const targets = seededInts(batch * seq, 12, vocab);
      const reference = runOutputs(
        graph,
        { tokens: toTensor([batch, seq], tokens), targets: toTensor([batch, seq], targets) },
        params,
      );
      for (const fuse of [true, false]) {
        const { outputs, kernels } = await runOnGpu(gpu, graph, { tokens, targets }, params, {
          fuse,
          outputs: ["logits", "loss"],
        });
        const logitsError = relativeError(outputs.logits, reference.logits.data);
        const lossError = relativeError(outputs.loss, reference.loss.data);
        console.log(
          `${label} ${fuse ? "fused" : "unfused"}: ${kernels} kernels, logits error ${logitsError.toExponential(2)}, loss error ${lossError.toExponential(2)}`,
        );
        expect(logitsError).toBeLessThanOrEqual(1e-4);
        expect(lossError).toBeLessThanOrEqual(1e-4);
      }
    });
  }
});

describe("fusion", () => {
  it("dispatches fewer kernels per forward pass for a Block AttnRes model", () => {
    const graph = lowerModel(tinySpec({ vocab, dim: 16, layers: 4, residual: blockRes(2) }), { batch, seq });
    const fused = compileGraph(graph, { fuse: true }).kernels.length;
    const unfused = compileGraph(graph, { fuse: false }).kernels.length;
    console.log(`Block AttnRes N=2, 4 layers: ${fused} kernels fused, ${unfused} unfused`);
    expect(fused).toBeLessThan(unfused);
  });

  it("every AttnRes aggregation is a single kernel", () => {
    const graph = lowerModel(tinySpec({ vocab, dim: 16, layers: 4, residual: FULL }), { batch, seq });
    const exe = compileGraph(graph);
    const aggregations = graph.nodes.filter((n) => n.op === "attnres").length;
    expect(exe.kernels.filter((k) => k.ops[0] === "attnres").length).toBe(aggregations);
  });
});
