// A probe: one node of a model (its op, operand shapes and attributes) rebuilt alone in a graph,
// so that each kernel variant can be compiled for it, checked against the float64 reference and
// timed. A probe too large for the reference to check quickly is checked shrunk: fewer rows and
// tokens, the same transposes, head layout and alignment, so the variant runs the same code paths.

import { GraphBuilder } from "../../compiler/ir/builder.js";
import type { Attrs, Graph, Node } from "../../compiler/ir/ir.js";
import { numel } from "../../compiler/ir/ir.js";
import { flopRule } from "../../compiler/ops/registry.js";
import { matmulSizes } from "../../compiler/ops/matmul/sizes.js";

export interface Probe {
  op: string;
  /** the operands' shapes, every operand f32 */
  shapes: number[][];
  attrs: Attrs;
}

export function probeOf(graph: Graph, node: Node): Probe {
  return {
    op: node.op,
    shapes: node.inputs.map((id) => [...graph.nodes[id].type.shape]),
    attrs: { ...node.attrs },
  };
}

/** a readable signature: "512x64 · 64x256 ta" */
export function describeProbe(p: Probe): string {
  const flags = Object.entries(p.attrs)
    .filter(([key, value]) => value === true && (key === "ta" || key === "tb"))
    .map(([key]) => ` ${key}`)
    .join("");
  // runs of one shape (an aggregation's sources) are counted, not repeated
  const runs: { shape: string; count: number }[] = [];
  for (const shape of p.shapes.map((s) => s.join("x"))) {
    const last = runs.at(-1);
    if (last?.shape === shape) last.count += 1;
    else runs.push({ shape, count: 1 });
  }
  return runs.map((r) => (r.count > 1 ? `${r.count} x ${r.shape}` : r.shape)).join(" · ") + flags;
}

export function probeGraph(p: Probe, name = `tune_${p.op}`): Graph {
  const b = new GraphBuilder(name);
  const inputs = p.shapes.map((shape, i) => b.input(`in${i}`, "f32", shape));
  b.output(
    "out",
    b.scoped("probe", () => b.op(p.op, inputs, p.attrs)),
  );
  return b.graph;
}

/** the probe's node in its graph */
export function probeNode(graph: Graph): Node {
  return graph.nodes[graph.outputs.out];
}

/** the forward FLOPs of the probe's node: what the float64 reference has to compute */
export function probeFlops(p: Probe): number {
  const graph = probeGraph(p);
  const f = flopRule(p.op)(graph, probeNode(graph));
  return f.matmul + f.attention + f.attnres;
}

/** at most `limit`, keeping n % 4 (the 4-wide loads need the same alignment) */
function shrinkSize(n: number, limit: number): number {
  return n <= limit ? n : limit - 4 + (n % 4);
}

/** a smaller probe through the same code paths of every variant */
export function shrinkProbe(p: Probe): Probe {
  if (p.op === "matmul" || p.op === "rmsnorm_matmul") {
    const norm = p.op === "rmsnorm_matmul";
    const ta = p.attrs.ta === true;
    const tb = p.attrs.tb === true;
    const s = matmulSizes(p.shapes[0], p.shapes[norm ? 2 : 1], ta, tb);
    const [m, n, k] = [shrinkSize(s.m, 100), shrinkSize(s.n, 100), shrinkSize(s.k, 100)];
    const a = ta ? [k, m] : [m, k];
    const b = tb ? [n, k] : [k, n];
    // rmsnorm_matmul's operands are x, its gain, w
    return { ...p, shapes: norm ? [a, [k], b] : [a, b] };
  }
  // attention [batch, seq, width] and the AttnRes sources (and a per-token query): one sequence
  // of at most 77 tokens, which two query blocks and no key tile divide
  const full = p.shapes[0];
  return {
    ...p,
    shapes: p.shapes.map((shape) =>
      shape.length >= 3 && (p.op === "attention" || numel(shape) === numel(full))
        ? [1, Math.min(shape[1], 77), ...shape.slice(2)]
        : shape,
    ),
  };
}
