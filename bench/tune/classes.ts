// The (op, shape class) pairs a set of graphs compiles kernels for, each with the probe that
// stands for it: of the class's distinct node shapes, the one that costs the most in total
// (FLOPs times how often it occurs), so the variant chosen suits where the time goes.

import type { Graph } from "../../compiler/ir/ir.js";
import { flopRule, kernelTemplate } from "../../compiler/ops/registry.js";
import { describeProbe, probeOf, type Probe } from "./probe.js";

export interface TuneClass {
  op: string;
  shapeClass: string;
  probe: Probe;
  /** how many nodes of the graphs fall in the class */
  nodes: number;
}

interface Candidate {
  probe: Probe;
  count: number;
  flops: number;
}

export function tuneClasses(graphs: Graph[], ops: readonly string[]): TuneClass[] {
  const classes = new Map<string, { op: string; shapeClass: string; shapes: Map<string, Candidate> }>();
  for (const graph of graphs)
    for (const node of graph.nodes) {
      if (!ops.includes(node.op)) continue;
      const variants = kernelTemplate(node.op)?.variants;
      if (!variants) continue;
      const shapeClass = variants.shapeClass(node, graph);
      const key = `${node.op} ${shapeClass}`;
      let entry = classes.get(key);
      if (!entry) classes.set(key, (entry = { op: node.op, shapeClass, shapes: new Map() }));
      const probe = probeOf(graph, node);
      const signature = `${describeProbe(probe)} ${JSON.stringify(probe.attrs)}`;
      const f = flopRule(node.op)(graph, node);
      const candidate = entry.shapes.get(signature) ?? {
        probe,
        count: 0,
        flops: f.matmul + f.attention + f.attnres,
      };
      candidate.count += 1;
      entry.shapes.set(signature, candidate);
    }
  return [...classes.values()].map(({ op, shapeClass, shapes }) => {
    const all = [...shapes.values()];
    const heaviest = all.reduce((best, c) => (c.count * c.flops > best.count * best.flops ? c : best));
    return { op, shapeClass, probe: heaviest.probe, nodes: all.reduce((n, c) => n + c.count, 0) };
  });
}
