// Code generation without a device: deterministic WGSL snapshots for two small graphs, the
// template registry covering every forward op, buffer-plan reuse, and limit errors.

import { describe, expect, it } from "vitest";
import { expectGolden } from "./golden-file.js";
import { GraphBuilder } from "../compiler/ir/builder.js";
import { compileGraph, GraphVerificationError } from "../compiler/compile.js";
import { bindPools, MAX_VALUE_BINDINGS, rerouteAccesses } from "../compiler/codegen/pooled.js";
import { fuseGraph } from "../compiler/passes/fusion.js";
import {
  planBuffers,
  POOL,
  STORAGE_OFFSET_ALIGNMENT,
  unsharedScratchBytes,
} from "../compiler/passes/plan.js";
import { limitViolations } from "../runtime/buffers.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { differentiate } from "../compiler/passes/autodiff.js";
import { validateExecutable } from "../format/archx.js";
import { blockRes, FULL, tinySpec } from "./golden/specs.js";

/** 10 rows by default: few enough for the rows4 product (decoding's); 20 take the 64x64 tile */
function mlpGraph(sequences = 2) {
  const b = new GraphBuilder("mlp");
  const x = b.input("x", "f32", [sequences, 5, 8]);
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
  it("a pre-norm MLP: the norm folded into the first product (+ gelu), then matmul + residual add", async () => {
    const exe = compileGraph(mlpGraph());
    expect(exe.kernels.map((k) => `${k.name} [${k.ops.join(" + ")}]`)).toEqual([
      "layers.0.mlp.rmsnorm_matmul_gelu [rmsnorm_matmul + gelu]",
      "layers.0.mlp.matmul_add [matmul + add]",
    ]);
    expectGolden("__snapshots__/mlp.wgsl", exe.modules.join("\n// ----\n"));
  });

  it("the same MLP with a backward keeps its norm: the weight gradient reads the normed values", () => {
    const graph = mlpGraph();
    graph.outputs["grad.layers.0.mlp.w1"] = graph.outputs.y; // any grad. output marks a backward
    const exe = compileGraph(graph);
    expect(exe.kernels.map((k) => k.ops[0])).toEqual(["rmsnorm", "matmul", "matmul"]);
  });

  it("the same MLP over 20 rows: the tiled product, with the norm's prologue", async () => {
    const exe = compileGraph(mlpGraph(4));
    const product = exe.modules[exe.kernels[0].module];
    expect(exe.kernels[0].ops[0]).toBe("rmsnorm_matmul");
    expect(product).toContain("const TILE_M: u32 = 64u;");
    expect(product).toContain("inverseSqrt(squares[r] / f32(K) + EPS)");
    expectGolden("__snapshots__/mlp-tiled-matmul.wgsl", product);
  });

  it("one AttnRes aggregation with key norm", async () => {
    const exe = compileGraph(attnresGraph());
    const aggregation = exe.kernels.filter((k) => k.ops[0] === "attnres");
    expect(aggregation).toHaveLength(1);
    expectGolden("__snapshots__/attnres.wgsl", exe.modules[aggregation[0].module]);
  });

  it("an AttnRes aggregation over more values than storage bindings binds ranges of pools", async () => {
    const exe = compileGraph(attnresGraph(9));
    const [aggregation] = exe.kernels.filter((k) => k.ops[0] === "attnres");
    // 9 sources, query, gain and the output would be 12 bindings; they live in 4 pools, and the
    // spare bindings split the scratch pool's 8 sources into narrower ranges
    expect(aggregation.bindings.length).toBeGreaterThan(4);
    expect(aggregation.bindings.length).toBeLessThanOrEqual(MAX_VALUE_BINDINGS);
    const ranges = aggregation.bindings.map((b) => {
      if (!("pool" in b) || b.offset === undefined || b.size === undefined)
        throw new Error("a value binding");
      return { pool: b.pool, start: b.offset, end: b.offset + b.size };
    });
    expect(new Set(ranges.map((r) => r.pool))).toEqual(
      new Set([POOL.param, POOL.input, POOL.output, POOL.scratch]),
    );
    for (const r of ranges)
      for (const o of ranges)
        if (r !== o && r.pool === o.pool) expect(r.end <= o.start || o.end <= r.start).toBe(true);
    expectGolden("__snapshots__/attnres-pooled.wgsl", exe.modules[aggregation.module]);
  });

  it("is deterministic", () => {
    expect(JSON.stringify(compileGraph(mlpGraph()))).toBe(JSON.stringify(compileGraph(mlpGraph())));
  });
});

describe("pool ranges of a kernel over many values", () => {
  // one pool, values of random sizes at random gaps: the ranges must hold every value once, stay
  // within 8 bindings, never overlap, and make the widest range as narrow as any cut into 8 can
  const random = (seed: number) => () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}`, () => {
      const next = random(seed);
      const count = 9 + Math.floor(next() * 6);
      const b = new GraphBuilder("g");
      const values: { value: number; name: string }[] = [];
      const slots = [];
      let offset = 0;
      for (let i = 0; i < count; i++) {
        const words = 1 + Math.floor(next() * 300);
        const value = b.input(`v${i}`, "f32", [words]);
        offset += 256 * Math.floor(next() * 20);
        slots.push({ value, pool: 0, offset, size: words * 4 });
        values.push({ value, name: `v${i}` });
        offset += Math.ceil((words * 4) / 256) * 256;
      }
      const plan = { pools: [{ size: offset, usage: "scratch" as const }], slots };
      const code = values.map(({ name }) => `${name}[0] = 1.0;`).join("\n");
      const bound = bindPools(b.graph, plan, values, code);
      expect(bound.bindings.length).toBeLessThanOrEqual(MAX_VALUE_BINDINGS);
      const ranges = bound.bindings.map(
        (x) => ("pool" in x ? { start: x.offset!, end: x.offset! + x.size! } : null)!,
      );
      slots.forEach((slot, i) => {
        const holders = ranges.filter((r) => r.start <= slot.offset && slot.offset + slot.size <= r.end);
        expect(holders, `value ${i}`).toHaveLength(1);
        const j = ranges.indexOf(holders[0]);
        expect(bound.code).toContain(`[${(slot.offset - holders[0].start) / 4}u + (0)]`);
        expect(bound.declarations[j]).toContain(
          `v${i} %${slot.value} at ${(slot.offset - holders[0].start) / 4}`,
        );
      });
      const widest = Math.max(...ranges.map((r) => r.end - r.start));
      // brute force: every way to cut the sorted values into at most 8 contiguous groups
      let best = Infinity;
      const cut = (from: number, groups: number, worst: number) => {
        if (worst >= best) return;
        if (from === count) return void (best = worst);
        if (groups === MAX_VALUE_BINDINGS) return;
        for (let to = from + 1; to <= count; to++) {
          const span = Math.max(...slots.slice(from, to).map((s) => s.offset + s.size)) - slots[from].offset;
          cut(to, groups + 1, Math.max(worst, span));
        }
      };
      cut(0, 0, 0);
      expect(widest).toBe(best);
    });
  }
});

describe("the driver verifies the graph it is given", () => {
  it("refuses a graph whose node types disagree with the op catalog, naming the node", () => {
    const graph = mlpGraph();
    const gelu = graph.nodes.find((n) => n.op === "gelu")!;
    gelu.type = { dtype: "f32", shape: [2, 5, 13] };
    expect(() => compileGraph(graph)).toThrow(GraphVerificationError);
    expect(() => compileGraph(graph)).toThrow(new RegExp(`%${gelu.id} \\(gelu in layers.0.mlp\\): type`));
  });
});

describe("views", () => {
  // Full AttnRes backward: one packed gradient per aggregation, sliced per source
  const step = (dim: number) =>
    compileGraph(
      differentiate(
        lowerModel(tinySpec({ dim, layers: 4, residual: FULL, vocab: 16 }), { batch: 2, seq: 4 }),
      ),
      { batch: 2, seq: 4 },
    );

  it("a slice at an aligned offset is a window of its base's bytes, with no kernel", () => {
    const exe = step(16); // one source row: 2 x 4 x 16 x 4 bytes = 512, a multiple of 256
    expect(exe.kernels.filter((k) => k.ops[0] === "slice")).toEqual([]);
    const values = new Map(exe.values.map((v) => [v.id, v]));
    const views = exe.values.filter((v) => v.viewOf !== undefined);
    expect(views.filter((v) => v.label.includes("slice")).length).toBeGreaterThan(20);
    for (const view of views) {
      const base = values.get(view.viewOf!)!;
      expect(base.viewOf).toBeUndefined();
      expect(view.pool).toBe(base.pool);
      expect(view.offset).toBeGreaterThanOrEqual(base.offset);
      expect(view.offset + view.size).toBeLessThanOrEqual(base.offset + base.size);
    }
    // the validator's lifetime check: no other value takes the base's bytes while a view is read
    expect(() => validateExecutable(JSON.parse(JSON.stringify(exe)), "step.archx")).not.toThrow();
  });

  it("a view read in one kernel with its base is copied instead, so no kernel binds shared bytes", () => {
    const b = new GraphBuilder("aliasing");
    const a = b.input("a", "f32", [4, 64]);
    const x = b.op("gelu", [a]);
    const v = b.op("reshape", [x], { shape: [256] });
    const y = b.op("add", [b.op("reshape", [x], { shape: [256] }), v]);
    b.output("y", b.op("mul", [y, v]));
    const exe = compileGraph(b.graph);
    const values = new Map(exe.values.map((value) => [value.id, value]));
    for (const kernel of exe.kernels) {
      const ranges = kernel.bindings.map((binding) => {
        const value = values.get("value" in binding ? binding.value : -1)!;
        return { pool: value.pool, start: value.offset, end: value.offset + value.size };
      });
      for (const r of ranges)
        for (const o of ranges)
          if (r !== o && r.pool === o.pool)
            expect(r.end <= o.start || o.end <= r.start, kernel.name).toBe(true);
    }
    expect(exe.kernels.some((k) => k.ops[0] === "reshape")).toBe(true);
    expect(() => validateExecutable(JSON.parse(JSON.stringify(exe)), "aliasing.archx")).not.toThrow();
  });

  it("a slice whose offset the device cannot bind is copied by a kernel", () => {
    const exe = step(12); // 384-byte rows: only the slice at index 0 starts aligned
    const copies = exe.kernels.filter((k) => k.ops[0] === "slice").length;
    // every slice of a packed AttnRes gradient at an odd index starts 384 * odd bytes in, never
    // aligned: 8 aggregations (and the final one) hand out at least one such slice each
    const graph = differentiate(
      lowerModel(tinySpec({ dim: 12, layers: 4, residual: FULL, vocab: 16 }), { batch: 2, seq: 4 }),
    );
    const misaligned = graph.nodes.filter(
      (n) =>
        n.op === "slice" && ((n.attrs.index as number) * n.type.shape.reduce((a, b) => a * b, 4)) % 256 !== 0,
    ).length;
    expect(misaligned).toBeGreaterThan(8);
    expect(copies).toBe(misaligned);
    expect(exe.values.some((v) => v.viewOf !== undefined && v.label.includes("slice"))).toBe(true);
  });

  it("the planner keeps a base's bytes until its views' last read", () => {
    const exe = step(16);
    const viewOf = new Map(exe.values.map((v) => [v.id, v.viewOf ?? v.id]));
    const scratch = exe.values.filter((v) => exe.pools[v.pool].usage === "scratch" && v.viewOf === undefined);
    const life = new Map<number, [number, number]>();
    exe.kernels.forEach((k, i) => {
      for (const b of k.bindings) {
        if (!("value" in b)) continue;
        const owner = viewOf.get(b.value)!;
        const span = life.get(owner);
        life.set(owner, span ? [span[0], i] : [i, i]);
      }
    });
    for (const x of scratch)
      for (const y of scratch) {
        if (x.id >= y.id || x.offset + x.size <= y.offset || y.offset + y.size <= x.offset) continue;
        const [a, b] = [life.get(x.id), life.get(y.id)];
        if (a && b) expect(a[1] < b[0] || b[1] < a[0], `values ${x.id} and ${y.id}`).toBe(true);
      }
  });
});

describe("pooled accesses", () => {
  it("reroutes every indexing of a value, nested brackets included, and nothing else", () => {
    const code =
      "let a = source1[i + idx[j]] * source10[k];\n_ = arrayLength(&source1);\nlet n = source1_count;";
    expect(rerouteAccesses(code, new Map([["source1", { binding: "scratch_pool", offset: 256 }]]))).toBe(
      "let a = scratch_pool[256u + (i + idx[j])] * source10[k];\n_ = arrayLength(&scratch_pool);\nlet n = source1_count;",
    );
  });

  it("reroutes several values in one pass, an access inside another's index included", () => {
    const routes = new Map([
      ["source1", { binding: "scratch0_pool", offset: 0 }],
      ["source10", { binding: "scratch1_pool", offset: 64 }],
      ["out", { binding: "output_pool", offset: 8 }],
    ]);
    expect(rerouteAccesses("out[source10[source1[i]]] = source1[k] + source10[j];", routes)).toBe(
      "output_pool[8u + (scratch1_pool[64u + (scratch0_pool[0u + (i)])])] = scratch0_pool[0u + (k)] + scratch1_pool[64u + (j)];",
    );
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

describe("source stacks", () => {
  const attnresModules = (exe: ReturnType<typeof compileGraph>) =>
    new Set(exe.kernels.filter((k) => k.ops[0] === "attnres").map((k) => k.module));

  it("every Full AttnRes aggregation of a forward pass is one module, its sources one stride apart", async () => {
    for (const layers of [2, 6]) {
      const model = tinySpec({ layers, dim: 16, residual: FULL });
      const exe = compileGraph(lowerModel(model, { batch: 2, seq: 4 }));
      expect(() => validateExecutable(structuredClone(exe), "test")).not.toThrow();
      expect(attnresModules(exe).size, `${layers} layers`).toBe(1);
      const stacks = exe.kernels.flatMap((k) =>
        k.bindings.filter((b) => "stride" in b && b.stride !== undefined),
      );
      // one per aggregation: each sublayer's and the final one, which reads all 2 L + 1 sources
      expect(stacks.map((b) => ("values" in b ? b.values!.length : 0))).toEqual(
        Array.from({ length: 2 * layers + 1 }, (_, i) => i + 1),
      );
      const final = stacks.at(-1)!;
      const valueOf = new Map(exe.values.map((v) => [v.id, v]));
      if (!("pool" in final)) throw new Error("a stack binds a pool range");
      // value k of the stack starts k strides in
      final.values!.forEach((id, k) =>
        expect(valueOf.get(id)!.offset).toBe(final.offset! + k * final.stride!),
      );
    }
    const exe = compileGraph(
      lowerModel(tinySpec({ layers: 2, dim: 16, residual: FULL }), { batch: 2, seq: 4 }),
    );
    expectGolden("__snapshots__/attnres-stacked.wgsl", exe.modules[[...attnresModules(exe)][0]]);
  });

  it("Block AttnRes shares two modules (with and without the partial sum) at any depth", () => {
    for (const layers of [4, 8]) {
      const exe = compileGraph(
        lowerModel(tinySpec({ layers, dim: 16, residual: blockRes(2) }), { batch: 2, seq: 4 }),
      );
      expect(() => validateExecutable(structuredClone(exe), "test")).not.toThrow();
      expect(attnresModules(exe).size, `${layers} layers`).toBe(2);
    }
  });

  it("an aggregation that reads a stacked source besides its sources is not stacked", () => {
    // gated AttnRes: the first sublayer's blend epilogue reads x0, the stack's first member
    const model = tinySpec({ layers: 2, dim: 16, residual: { ...FULL, gate: true } });
    const exe = compileGraph(lowerModel(model, { batch: 2, seq: 4 }));
    expect(() => validateExecutable(structuredClone(exe), "test")).not.toThrow();
    const stacked = (name: string) =>
      exe.kernels.find((k) => k.name.startsWith(name))!.bindings.some((b) => "stride" in b);
    expect(stacked("layers.0.attn.res.attnres")).toBe(false);
    expect(stacked("layers.0.mlp.res.attnres")).toBe(true);
    expect(stacked("final.res.attnres")).toBe(true);
  });

  it("a training step stacks its forward aggregations and still validates", () => {
    const model = tinySpec({ layers: 3, dim: 16, residual: FULL });
    const exe = compileGraph(differentiate(lowerModel(model, { batch: 2, seq: 4 })));
    expect(() => validateExecutable(structuredClone(exe), "test")).not.toThrow();
    expect(attnresModules(exe).size).toBe(1);
  });
});
