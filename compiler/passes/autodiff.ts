// Reverse-mode automatic differentiation as an IR-to-IR pass. The result is one graph: the forward
// nodes unchanged (same ids), then the backward nodes, with outputs "grad.<param>" added. Each
// forward op's local rule lives in grad-rules/; this file only walks the graph and sums gradients
// of values used more than once.

import type { Attrs, Graph, Node, TensorType } from "../ir/ir.js";
import { sameShape, typeToString } from "../ir/ir.js";
import { inferType } from "../ir/catalog.js";
import { gradientRule } from "../ops/registry.js";
import type { GradContext } from "./grad-rules/types.js";

export interface DifferentiateOptions {
  /** what to differentiate with respect to; parameters are the only choice today */
  wrt?: "params";
  /** the scalar output to differentiate (default "loss") */
  loss?: string;
}

export class AutodiffError extends Error {}

export function gradOutputName(param: string): string {
  return `grad.${param}`;
}

export function differentiate(forward: Graph, opts: DifferentiateOptions = {}): Graph {
  const lossName = opts.loss ?? "loss";
  const loss = forward.outputs[lossName];
  if (loss === undefined) throw new AutodiffError(`autodiff: the graph has no output '${lossName}'`);
  if (forward.nodes[loss].type.shape.length !== 0)
    throw new AutodiffError(
      `autodiff: '${lossName}' must be a scalar, got ${typeToString(forward.nodes[loss].type)}`,
    );

  const graph: Graph = {
    name: forward.name,
    params: forward.params.map((p) => ({ ...p, shape: [...p.shape] })),
    nodes: forward.nodes.map((n) => ({ ...n, inputs: [...n.inputs], attrs: { ...n.attrs } })),
    outputs: { ...forward.outputs },
  };
  const dependsOnParam = paramDependence(graph.nodes);

  let scope = "grad";
  const emit = (op: string, inputs: number[], attrs: Attrs = {}): number => {
    const type = inferType(
      op,
      inputs.map((i) => graph.nodes[i].type),
      attrs,
    );
    const id = graph.nodes.length;
    graph.nodes.push({ id, op, inputs, attrs, type, scope });
    return id;
  };
  const grads = new Map<number, number>();
  const accumulate = (value: number, grad: number): void => {
    const existing = grads.get(value);
    grads.set(value, existing === undefined ? grad : emit("add", [existing, grad]));
  };

  accumulate(loss, emit("fill", [], { shape: [], value: 1 }));
  for (let id = loss; id >= 0; id--) {
    const node = graph.nodes[id];
    const dy = grads.get(id);
    if (dy === undefined || !dependsOnParam[id] || node.op === "param") continue;
    const rule = gradientRule(node.op);
    if (!rule)
      throw new AutodiffError(
        `autodiff: no gradient rule for op '${node.op}' (node ${id}, ${node.scope || "top level"})`,
      );
    scope = node.scope ? `grad.${node.scope}` : "grad";
    const folded = new Set<number>();
    const ctx: GradContext = {
      node,
      dy,
      type: (v) => graph.nodes[v].type,
      nodeOf: (v) => graph.nodes[v],
      emit,
      accumulatedGradient: (v) => grads.get(v),
      foldsAccumulated: (v) => folded.add(v),
    };
    const operandGrads = rule(ctx);
    // a rule that folded a value's gradient so far into its own returns the whole sum
    for (const v of folded) {
      const i = node.inputs.indexOf(v);
      if (i < 0 || operandGrads[i] === null || operandGrads[i] === undefined)
        throw new AutodiffError(
          `autodiff: rule for '${node.op}' (node ${id}) folded the gradient of %${v} but returns none for it`,
        );
      grads.delete(v);
    }
    node.inputs.forEach((input, i) => {
      if (!dependsOnParam[input]) return;
      const grad = operandGrads[i];
      if (grad === null || grad === undefined)
        throw new AutodiffError(
          `autodiff: rule for '${node.op}' gave no gradient for operand ${i} of node ${id}`,
        );
      checkGradType(node, i, graph.nodes[input].type, graph.nodes[grad].type);
      accumulate(input, grad);
    });
  }

  scope = "grad";
  for (const param of graph.params) {
    const readers = graph.nodes.filter(
      (n) => n.op === "param" && n.attrs.name === param.name && n.id <= loss,
    );
    let total: number | undefined;
    for (const reader of readers) {
      const g = grads.get(reader.id);
      if (g !== undefined) total = total === undefined ? g : emit("add", [total, g]);
    }
    graph.outputs[gradOutputName(param.name)] =
      total ?? emit("fill", [], { shape: [...param.shape], value: 0 });
  }
  return withoutDeadBackwardNodes(graph, forward.nodes.length);
}

/**
 * Rules compute every operand's gradient, including those nothing needs (the gradient of a fed
 * input); this drops backward nodes no output depends on and renumbers the rest. Forward nodes are
 * kept as they are, so their ids stay valid.
 */
function withoutDeadBackwardNodes(graph: Graph, firstBackward: number): Graph {
  const live = new Array<boolean>(graph.nodes.length).fill(false);
  for (const id of Object.values(graph.outputs)) live[id] = true;
  for (let id = graph.nodes.length - 1; id >= firstBackward; id--)
    if (live[id]) for (const input of graph.nodes[id].inputs) live[input] = true;
  const renumbered = new Map<number, number>();
  const nodes: Node[] = [];
  graph.nodes.forEach((node, id) => {
    if (id >= firstBackward && !live[id]) return;
    renumbered.set(id, nodes.length);
    nodes.push({ ...node, id: nodes.length, inputs: node.inputs.map((i) => renumbered.get(i)!) });
  });
  const outputs: Record<string, number> = {};
  for (const [name, id] of Object.entries(graph.outputs)) outputs[name] = renumbered.get(id)!;
  return { ...graph, nodes, outputs };
}

function paramDependence(nodes: Node[]): boolean[] {
  const depends: boolean[] = [];
  for (const n of nodes) depends.push(n.op === "param" || n.inputs.some((i) => depends[i]));
  return depends;
}

function checkGradType(node: Node, operand: number, want: TensorType, got: TensorType): void {
  if (got.dtype !== "f32" || !sameShape(want.shape, got.shape))
    throw new AutodiffError(
      `autodiff: gradient of operand ${operand} of '${node.op}' (node ${node.id}) is ${typeToString(got)}, expected f32[${want.shape.join(",")}]`,
    );
}
