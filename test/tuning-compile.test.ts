// Compiling with a tuning table: the default (no table, or no entry) reproduces the recorded WGSL,
// digests of every module of the examples' training and evaluation programs (the training
// programs' as archc generated them before kernels had variants; the evaluation programs' since
// their norms fold into the products, passes/norm-prologue.ts); an entry changes the kernels of
// its shape class and no other.

import { createHash } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectGolden } from "./golden-file.js";
import { compileGraph, compileTraining } from "../compiler/compile.js";
import { renderKernels } from "../compiler/codegen/render.js";
import { chooseVariant, forcingTable } from "../compiler/codegen/variant-choice.js";
import { loadProgram } from "../compiler/frontend.js";
import { GraphBuilder } from "../compiler/ir/builder.js";
import type { Graph } from "../compiler/ir/ir.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { kernelTemplate } from "../compiler/ops/registry.js";
import { differentiate } from "../compiler/passes/autodiff.js";
import { fuseGraph } from "../compiler/passes/fusion.js";
import { STORAGE_OFFSET_ALIGNMENT } from "../compiler/passes/plan.js";
import { findViews } from "../compiler/passes/views.js";
import { moduleCode, type Executable } from "../format/archx.js";
import { tuningKey } from "../format/tuning.js";
import { FULL, tinySpec } from "./golden/specs.js";

const root = join(import.meta.dirname, "..");

/** every model of an example file, as the front end builds it */
function exampleModels(file: string) {
  const result = loadProgram([join(root, "examples", file)]);
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return [...result.program.models.values()];
}

function digestLines(label: string, exe: Executable): string[] {
  return exe.modules.map((code, i) => {
    const first = exe.kernels.find((k) => k.module === i)!;
    const digest = createHash("sha256").update(code).digest("hex").slice(0, 16);
    return `${label} ${first.name} ${digest}`;
  });
}

/** the examples every default kernel is recorded for: the ops of table 4's residuals and GPT-2 */
const RECORDED: { file: string; batch: number; seq: number }[] = [
  { file: "table4.arch", batch: 2, seq: 16 },
  { file: "gpt2_classic.arch", batch: 1, seq: 32 },
];

describe("the default variant of every kernel", () => {
  it("reproduces the recorded WGSL", async () => {
    const lines: string[] = [];
    for (const { file, batch, seq } of RECORDED)
      for (const model of exampleModels(file)) {
        const program = compileTraining(model, { batch, seq });
        lines.push(...digestLines(`${model.name} train`, program.train));
        lines.push(...digestLines(`${model.name} eval`, program.eval));
      }
    expectGolden("__snapshots__/default-kernels.txt", lines.join("\n") + "\n");
  });
});

describe("compiling with a tuning table", () => {
  const model = tinySpec({ vocab: 32, dim: 16, layers: 2, residual: FULL });
  // 24 rows: more than decoding's few (rows4 is the default up to 16)
  const shape = { batch: 2, seq: 12 };

  /** each kernel's WGSL, comments left out, by kernel name */
  const kernelCode = (exe: Executable) =>
    new Map(exe.kernels.map((k) => [k.name, moduleCode(exe.modules[k.module])]));

  /** the (op, shape class) each kernel's anchor falls in, for ops with variants */
  function classesOf(graph: Graph, exe: Executable): Map<string, string> {
    const byName = new Map<string, string>();
    // the groups as compileGraph forms them (views first, then fusion), named the same way
    const views = findViews(graph, STORAGE_OFFSET_ALIGNMENT);
    const kernels = renderKernels(graph, fuseGraph(graph, { enabled: true, views }));
    for (const k of kernels) {
      const anchor = graph.nodes[k.nodes[0]];
      const variants = kernelTemplate(anchor.op)?.variants;
      if (variants) byName.set(k.name, tuningKey(anchor.op, variants.shapeClass(anchor, graph)));
    }
    expect([...byName.keys()].every((name) => exe.kernels.some((k) => k.name === name))).toBe(true);
    return byName;
  }

  it("an empty table, or one naming only defaults, compiles exactly the default kernels", () => {
    const graph = differentiate(lowerModel(model, shape));
    const plain = compileGraph(graph);
    expect(compileGraph(graph, { tuning: new Map() }).modules).toEqual(plain.modules);
    // a product of at most 16 rows (the weight gradients of dim 16) defaults to rows4
    const matmulDefaults = [...forcingTable(graph, "matmul", "64x64").keys()].map(
      (key) => [key, key.includes("m<=16") ? "rows4" : "64x64"] as const,
    );
    expect(matmulDefaults.some(([, variant]) => variant === "rows4")).toBe(true);
    const defaults = new Map([
      ...matmulDefaults,
      ...forcingTable(graph, "attention", "keys32"),
      ...forcingTable(graph, "attnres", "tokens1"),
    ]);
    expect(compileGraph(graph, { tuning: defaults }).modules).toEqual(plain.modules);
  });

  it("changes exactly the kernels of the shape class an entry names", () => {
    const graph = differentiate(lowerModel(model, shape));
    const plain = compileGraph(graph);
    const classes = classesOf(graph, plain);
    const matmulClasses = [...new Set(classes.values())].filter((c) => c.startsWith("matmul "));
    expect(matmulClasses.length).toBeGreaterThan(2);
    const chosen = matmulClasses[1];
    const tuned = compileGraph(graph, { tuning: new Map([[chosen, "128x64"]]) });
    const before = kernelCode(plain);
    const after = kernelCode(tuned);
    expect([...after.keys()]).toEqual([...before.keys()]);
    const changed = [...before.keys()].filter((name) => before.get(name) !== after.get(name));
    const inClass = [...classes].filter(([, c]) => c === chosen).map(([name]) => name);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.sort()).toEqual(inClass.sort());
    for (const name of changed) expect(after.get(name)).toContain("const TILE_M: u32 = 128u;");
    // the tuned kernels say where their variant came from
    const module = tuned.modules[tuned.kernels.find((k) => k.name === changed[0])!.module];
    expect(module).toContain(`// variant 128x64, named by the tuning table for ${chosen}`);
  });

  it("passes over an entry naming a variant the node cannot use", () => {
    // 4-wide loads on sizes that are not multiples of 4: the default instead, no error
    const b = new GraphBuilder("odd");
    const a = b.input("a", "f32", [37, 29]);
    const w = b.input("w", "f32", [29, 45]);
    b.output("out", b.op("matmul", [a, w], { ta: false, tb: false }));
    const node = b.graph.nodes[b.graph.outputs.out];
    const variants = kernelTemplate("matmul")!.variants!;
    expect(variants.offered(node, b.graph)).not.toContain("64x64-vec4");
    const table = new Map([[tuningKey("matmul", variants.shapeClass(node, b.graph)), "64x64-vec4"]]);
    expect(chooseVariant(kernelTemplate("matmul")!, node, b.graph, table)).toBe("64x64");
    expect(compileGraph(b.graph, { tuning: table }).modules).toEqual(compileGraph(b.graph).modules);
  });

  it("gives products of at most 16 rows (decoding) a class of their own, rows4 by default", () => {
    const b = new GraphBuilder("decode_like");
    const a = b.input("a", "f32", [1, 1, 48]);
    const w = b.input("w", "f32", [48, 64]);
    b.output("out", b.op("matmul", [a, w], { ta: false, tb: false }));
    const node = b.graph.nodes[b.graph.outputs.out];
    const variants = kernelTemplate("matmul")!.variants!;
    expect(variants.shapeClass(node, b.graph)).toBe("m<=16,n<128,k<128,v4");
    expect(variants.defaultVariant(node, b.graph)).toBe("rows4");
    expect(compileGraph(b.graph).modules[0]).toContain("@workgroup_size(64, 4)");
    // and a tuning table may still pick a tile
    const table = new Map([[tuningKey("matmul", "m<=16,n<128,k<128,v4"), "32x32"]]);
    expect(compileGraph(b.graph, { tuning: table }).modules[0]).toContain("const TILE_M: u32 = 32u;");
  });

  it("shape classes are short, stable, space-free strings; few per model", () => {
    const graph = differentiate(lowerModel(model, shape));
    const classes = new Set(classesOf(graph, compileGraph(graph)).values());
    for (const c of classes) expect(c).toMatch(/^(matmul|attention|attnres) [^\s]+$/);
    expect([...classes].filter((c) => c.startsWith("matmul "))).toEqual(
      expect.arrayContaining(["matmul m<128,n<128,k<128,v4", "matmul m<128,n<128,k<128,ta,v4"]),
    );
    expect(classes.size).toBeLessThanOrEqual(12);
  });
});
