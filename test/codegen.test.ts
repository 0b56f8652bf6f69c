// Code generation without a device: deterministic WGSL snapshots for two small graphs, the
// template registry covering every forward op, buffer-plan reuse, and limit errors.

import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../compiler/ir/builder.js";
import { OPS } from "../compiler/ir/ops.js";
import { compileGraph } from "../compiler/compile.js";
import { KERNEL_TEMPLATES } from "../compiler/codegen/registry.js";
import { rerouteAccesses } from "../compiler/codegen/pooled.js";
import { fuseGraph } from "../compiler/passes/fusion.js";
import {
  planBuffers,
  POOL,
  STORAGE_OFFSET_ALIGNMENT,
  unsharedScratchBytes,
} from "../compiler/passes/plan.js";
import { limitViolations } from "../runtime/buffers.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { blockRes, tinySpec } from "./golden/specs.js";

function mlpGraph() {
  const b = new GraphBuilder("mlp");
  const x = b.input("x", "f32", [2, 5, 8]);
  const h = b.scoped("layers.0.mlp", () => {
    const w1 = b.param("w1", [8, 12], { kind: "normal", std: 0.02 }, { decay: true, group: "mlp" });
    const w2 = b.param("w2", [12, 8], { kind: "normal", std: 0.02 }, { decay: true, group: "mlp" });
    const g = b.param("norm", [8], { kind: "ones" }, { decay: false, group: "norm" });
    const n = b.op("rmsnorm", [x, g], { eps: 1e-5 });
    const up = b.op("gelu", [b.op("matmul", [n, w1], { ta: false, tb: false })]);
    return b.op("add", [b.op("matmul", [up, w2], { ta: false, tb: false }), x]);
  });
  b.output("y", h);
  return b.graph;
}

function attnresGraph(count = 3) {
  const b = new GraphBuilder("aggregate");
  // sources computed in the graph (scratch values), as in a model, not fed as inputs
  const x = b.input("x", "f32", [1, 3, 8]);
  const sources = Array.from({ length: count }, (_, i) =>
    i === 0 ? x : b.op("scale", [x], { factor: i + 1 }),
  );
  const out = b.scoped("layers.1.attnres", () => {
    const q = b.param("query", [8], { kind: "zeros" }, { decay: false, group: "attnres" });
    const g = b.param("key_norm", [8], { kind: "ones" }, { decay: false, group: "attnres" });
    return b.op("attnres", [...sources, q, g], {
      sources: count,
      score: "softmax",
      key_norm: true,
      eps: 1e-6,
    });
  });
  b.output("h", out);
  return b.graph;
}

describe("WGSL snapshots", () => {
  it("a pre-norm MLP: rmsnorm, matmul + gelu, matmul + residual add", async () => {
    const exe = compileGraph(mlpGraph());
    expect(exe.kernels.map((k) => `${k.name} [${k.ops.join(" + ")}]`)).toEqual([
      "layers.0.mlp.rmsnorm [rmsnorm]",
      "layers.0.mlp.matmul_gelu [matmul + gelu]",
      "layers.0.mlp.matmul_add [matmul + add]",
    ]);
    await expect(exe.modules.join("\n// ----\n")).toMatchFileSnapshot("__snapshots__/mlp.wgsl");
  });

  it("one AttnRes aggregation with key norm", async () => {
    const exe = compileGraph(attnresGraph());
    const aggregation = exe.kernels.filter((k) => k.ops[0] === "attnres");
    expect(aggregation).toHaveLength(1);
    await expect(exe.modules[aggregation[0].module]).toMatchFileSnapshot("__snapshots__/attnres.wgsl");
  });

  it("an AttnRes aggregation over more values than storage bindings binds whole pools", async () => {
    const exe = compileGraph(attnresGraph(9));
    const [aggregation] = exe.kernels.filter((k) => k.ops[0] === "attnres");
    // 9 sources, query, gain and the output would be 12 bindings; the pools they live in are 4
    expect(aggregation.bindings).toEqual([
      { pool: POOL.param, access: "read_write" },
      { pool: POOL.input, access: "read_write" },
      { pool: POOL.output, access: "read_write" },
      { pool: POOL.scratch, access: "read_write" },
    ]);
    await expect(exe.modules[aggregation.module]).toMatchFileSnapshot("__snapshots__/attnres-pooled.wgsl");
  });

  it("is deterministic", () => {
    expect(JSON.stringify(compileGraph(mlpGraph()))).toBe(JSON.stringify(compileGraph(mlpGraph())));
  });
});

describe("pooled accesses", () => {
  it("reroutes every indexing of a value, nested brackets included, and nothing else", () => {
    const code =
      "let a = source1[i + idx[j]] * source10[k];\n_ = arrayLength(&source1);\nlet n = source1_count;";
    expect(rerouteAccesses(code, "source1", "scratch_pool", 256)).toBe(
      "let a = scratch_pool[256u + (i + idx[j])] * source10[k];\n_ = arrayLength(&scratch_pool);\nlet n = source1_count;",
    );
  });
});

describe("kernel registry", () => {
  it("has a template for every forward computing op of the catalog", () => {
    const forward = Object.keys(OPS).filter((op) => op !== "input" && op !== "param");
    expect(forward.filter((op) => !(op in KERNEL_TEMPLATES))).toEqual([]);
  });
});

describe("fusion and buffer planning", () => {
  it("unfused compiles one kernel per computing node", () => {
    const graph = mlpGraph();
    const computing = graph.nodes.filter((n) => n.op !== "input" && n.op !== "param").length;
    expect(fuseGraph(graph, { enabled: false })).toHaveLength(computing);
    expect(fuseGraph(graph, { enabled: true }).length).toBeLessThan(computing);
  });

  it("scratch values with disjoint lifetimes share memory, aligned, never overlapping a live one", () => {
    const graph = lowerModel(tinySpec({ vocab: 32, dim: 16, layers: 4, residual: blockRes(2) }), {
      batch: 2,
      seq: 8,
    });
    const groups = fuseGraph(graph, { enabled: true });
    const plan = planBuffers(graph, groups);
    const scratch = plan.slots.filter((s) => s.pool === POOL.scratch);
    expect(plan.pools[POOL.scratch].size).toBeLessThan(unsharedScratchBytes(plan));
    for (const s of plan.slots) expect(s.offset % STORAGE_OFFSET_ALIGNMENT).toBe(0);
    // a kernel's output never overlaps anything the same kernel reads
    const slotOf = new Map(plan.slots.map((s) => [s.value, s]));
    for (const g of groups) {
      const out = slotOf.get(g.output)!;
      for (const id of [g.anchor, ...g.epilogue])
        for (const v of graph.nodes[id].inputs) {
          const s = slotOf.get(v);
          if (!s || s.pool !== out.pool || s.value === out.value) continue;
          expect(s.offset + s.size <= out.offset || out.offset + out.size <= s.offset).toBe(true);
        }
    }
    console.log(
      `scratch: ${plan.pools[POOL.scratch].size} bytes planned vs ${unsharedScratchBytes(plan)} unshared, ${scratch.length} values`,
    );
  });
});

describe("device limits", () => {
  it("names the buffer, its size and the device's limit before allocating", () => {
    const b = new GraphBuilder("big");
    const x = b.input("x", "f32", [4, 1024]);
    const w = b.scoped("layers.3.mlp", () =>
      b.param("w1", [1024, 300 * 256], { kind: "zeros" }, { decay: true, group: "mlp" }),
    );
    b.output("y", b.op("matmul", [x, w], { ta: false, tb: false }));
    const problems = limitViolations(compileGraph(b.graph), {
      maxStorageBufferBindingSize: 128 << 20,
      maxBufferSize: 1 << 30,
      maxStorageBuffersPerShaderStage: 8,
      maxComputeWorkgroupStorageSize: 16384,
      maxComputeWorkgroupsPerDimension: 65535,
    });
    expect(problems).toContain(
      "buffer for layers.3.mlp.w1 needs 300 MiB; this device allows 128 MiB per storage binding",
    );
  });
});
