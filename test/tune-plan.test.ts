// What `archc tune` measures, without a device: the shape classes of a training step and the probe
// standing for each, the shrunk probes the float64 check falls back to (which must reach the same
// variants), the choice of the variant kept, and the tuning file a run writes.

import { describe, expect, it } from "vitest";
import type { Graph } from "../compiler/ir/ir.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { flopRule, kernelTemplate, tunableOps } from "../compiler/ops/registry.js";
import { differentiate } from "../compiler/passes/autodiff.js";
import { tuneClasses } from "../bench/tune/classes.js";
import { fastestVariant, MARGIN, type ClassMeasurement } from "../bench/tune/measure.js";
import {
  describeProbe,
  probeFlops,
  probeGraph,
  probeNode,
  shrinkProbe,
  type Probe,
} from "../bench/tune/probe.js";
import { tuningFileOf, type TuneResult } from "../bench/tune/run-tune.js";
import type { TuningFile } from "../format/tuning.js";
import { FULL, tinySpec } from "./golden/specs.js";

const trainingGraph = (): Graph =>
  differentiate(
    lowerModel(tinySpec({ vocab: 40, dim: 16, layers: 2, residual: FULL }), { batch: 2, seq: 8 }),
  );

/** what the template says of the probe's node: its class and the variants it can use */
function seenBy(p: Probe) {
  const graph = probeGraph(p);
  const variants = kernelTemplate(p.op)!.variants!;
  const node = probeNode(graph);
  return { shapeClass: variants.shapeClass(node, graph), offered: variants.offered(node, graph) };
}

describe("the classes of a training step", () => {
  it("finds every class of every tunable op, each probe in its class, the costliest shape chosen", () => {
    expect(tunableOps().sort()).toEqual(["attention", "attnres", "matmul", "rmsnorm_matmul"]);
    const graph = trainingGraph();
    const classes = tuneClasses([graph], tunableOps());
    const expected = new Set<string>();
    let nodes = 0;
    for (const node of graph.nodes) {
      const variants = kernelTemplate(node.op)?.variants;
      if (!variants) continue;
      expected.add(`${node.op} ${variants.shapeClass(node, graph)}`);
      nodes += 1;
    }
    expect(new Set(classes.map((c) => `${c.op} ${c.shapeClass}`))).toEqual(expected);
    expect(classes.reduce((n, c) => n + c.nodes, 0)).toBe(nodes);
    for (const c of classes) {
      expect(seenBy(c.probe).shapeClass).toBe(c.shapeClass);
      // no node of the class costs more in total than the probe's shape
      const costs = new Map<string, number>();
      for (const node of graph.nodes) {
        const variants = kernelTemplate(node.op)?.variants;
        if (node.op !== c.op || variants?.shapeClass(node, graph) !== c.shapeClass) continue;
        const f = flopRule(node.op)(graph, node);
        const key =
          node.inputs.map((i) => graph.nodes[i].type.shape.join("x")).join(" ") + JSON.stringify(node.attrs);
        costs.set(key, (costs.get(key) ?? 0) + f.matmul + f.attention + f.attnres);
      }
      expect(Math.max(...costs.values())).toBeLessThanOrEqual(
        costs.get(c.probe.shapes.map((s) => s.join("x")).join(" ") + JSON.stringify(c.probe.attrs))!,
      );
    }
  });

  it("tunes only the ops asked for", () => {
    const classes = tuneClasses([trainingGraph()], ["attention"]);
    expect(classes.length).toBeGreaterThan(0);
    expect(classes.every((c) => c.op === "attention")).toBe(true);
  });
});

describe("shrunk probes for the float64 check", () => {
  const large: Probe[] = [
    // a tied head with its final norm folded in (forward-only programs): x, gain, w transposed
    {
      op: "rmsnorm_matmul",
      shapes: [[8, 77, 768], [768], [50304, 768]],
      attrs: { eps: 1e-5, tb: true },
    },
    {
      op: "matmul",
      shapes: [
        [4, 1023, 770],
        [770, 3001],
      ],
      attrs: { ta: false, tb: false },
    },
    {
      op: "matmul",
      shapes: [
        [4096, 1024],
        [4096, 3072],
      ],
      attrs: { ta: true, tb: false },
    },
    {
      op: "matmul",
      shapes: [
        [2048, 768],
        [50257, 768],
      ],
      attrs: { ta: false, tb: true },
    },
    {
      op: "attention",
      shapes: [
        [8, 1024, 768],
        [8, 1024, 256],
        [8, 1024, 256],
      ],
      attrs: { heads: 12, kv_heads: 4, head_dim: 64 },
    },
    {
      op: "attnres",
      shapes: [...Array.from({ length: 9 }, () => [16, 1024, 768]), [768], [768]],
      attrs: { sources: 9, score: "softmax", key_norm: true, eps: 1e-6 },
    },
    {
      // multi-head sources, a query per token and head
      op: "attnres",
      shapes: Array.from({ length: 9 }, () => [16, 1024, 4, 192]),
      attrs: { sources: 8, score: "sigmoid", key_norm: false, eps: 1e-6 },
    },
  ];
  it.each(large.map((p) => [describeProbe(p), p] as const))(
    "%s: small, through the same variants",
    (_, p) => {
      const small = shrinkProbe(p);
      expect(probeFlops(p)).toBeGreaterThan(2e8);
      expect(probeFlops(small)).toBeLessThan(2e7);
      expect(small.attrs).toEqual(p.attrs);
      expect(seenBy(small).offered).toEqual(seenBy(p).offered);
      if (p.op === "matmul" || p.op === "rmsnorm_matmul") {
        // the class differs only in the size buckets: transposes and alignment are kept
        const flags = (c: string) => c.split(",").filter((part) => !/^[mnk][<>]/.test(part));
        expect(flags(seenBy(small).shapeClass)).toEqual(flags(seenBy(p).shapeClass));
      }
    },
  );
});

describe("the variant kept, and the file written", () => {
  const measured = (times: Record<string, number | undefined>) =>
    Object.entries(times).map(([variant, ms]) => ({ variant, error: 0, passed: ms !== undefined, ms }));

  it("keeps the fastest, unless it beats the default by no more than the margin", () => {
    expect(fastestVariant(measured({ a: 1, b: 0.5, c: 0.7 }), "a")).toBe("b");
    expect(fastestVariant(measured({ a: 1, b: 1 - MARGIN / 2 }), "a")).toBe("a");
    expect(fastestVariant(measured({ a: 1, b: 1.5 }), "a")).toBe("a");
    // a refused variant is never kept, whatever its time would have been
    expect(fastestVariant(measured({ a: 1, b: undefined, c: 0.9 }), "a")).toBe("c");
    expect(fastestVariant(measured({ a: undefined }), "a")).toBe("a");
  });

  const adapter = {
    vendor: "v",
    architecture: "a",
    device: "d",
    description: "gpu",
    name: "gpu",
    software: false,
  };
  const measurement = (
    op: string,
    shapeClass: string,
    chosen: string,
    ms: Record<string, number | undefined>,
  ) =>
    ({
      op,
      shapeClass,
      nodes: 1,
      probe: "",
      checkedOn: "",
      defaultVariant: Object.keys(ms)[0],
      variants: measured(ms),
      chosen,
    }) satisfies ClassMeasurement;

  it("records every timed variant, rounded, keeps other classes of the previous file, sorted", () => {
    const result: TuneResult = {
      adapter,
      method: "timestamp-query",
      repeats: 5,
      seconds: 1,
      classes: [
        measurement("matmul", "m<128,n<128,k<128", "32x32", {
          "64x64": 1.234567,
          "32x32": 0.5,
          "128x64": undefined,
        }),
        measurement("attention", "t<128,hd8", "keys32", { keys32: 2, keys16: 3 }),
      ],
    };
    const previous: TuningFile = {
      format: "archc-tuning",
      version: 1,
      adapter: { vendor: "v", architecture: "a", device: "d", description: "gpu" },
      entries: [
        { op: "matmul", shapeClass: "m<128,n<128,k<128", variant: "64x64", ms: { "64x64": 9 } },
        { op: "attnres", shapeClass: "rows<1024,lanes32", variant: "tokens2", ms: { tokens2: 1 } },
      ],
    };
    const file = tuningFileOf(result, previous);
    expect(file.adapter).toEqual(previous.adapter);
    expect(file.entries).toEqual([
      { op: "attention", shapeClass: "t<128,hd8", variant: "keys32", ms: { keys32: 2, keys16: 3 } },
      { op: "attnres", shapeClass: "rows<1024,lanes32", variant: "tokens2", ms: { tokens2: 1 } },
      {
        op: "matmul",
        shapeClass: "m<128,n<128,k<128",
        variant: "32x32",
        ms: { "64x64": 1.235, "32x32": 0.5 },
      },
    ]);
  });
});
