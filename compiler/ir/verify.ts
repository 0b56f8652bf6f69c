// Graph invariants, checked at pass boundaries. Returns every violation found (empty = valid) so a
// failing test shows all of them at once rather than the first.

import type { Graph } from "./ir.js";
import { sameShape, typeToString } from "./ir.js";
// the full catalog, so backward graphs from autodiff verify too
import { inferType, ShapeError } from "./catalog.js";

function checkNodes(graph: Graph, problems: string[]): void {
  graph.nodes.forEach((node, index) => {
    const at = `%${index} (${node.op}${node.scope ? ` in ${node.scope}` : ""})`;
    if (node.id !== index) problems.push(`${at}: id is ${node.id}, expected its index ${index}`);
    for (const input of node.inputs)
      if (!Number.isInteger(input) || input < 0 || input >= index)
        problems.push(`${at}: operand %${input} is not an earlier node`);
    if (node.inputs.some((i) => i < 0 || i >= index)) return;
    try {
      const expected = inferType(
        node.op,
        node.inputs.map((i) => graph.nodes[i].type),
        node.attrs,
      );
      if (expected.dtype !== node.type.dtype || !sameShape(expected.shape, node.type.shape))
        problems.push(
          `${at}: type ${typeToString(node.type)} but the op catalog gives ${typeToString(expected)}`,
        );
    } catch (err) {
      if (!(err instanceof ShapeError)) throw err;
      problems.push(`${at}: ${err.message}`);
    }
  });
}

function checkParams(graph: Graph, problems: string[]): void {
  const declared = new Map<string, number[]>();
  for (const p of graph.params) {
    if (declared.has(p.name)) problems.push(`parameter ${p.name} is declared twice`);
    declared.set(p.name, p.shape);
  }
  const read = new Set<string>();
  for (const node of graph.nodes) {
    if (node.op !== "param") continue;
    const name = String(node.attrs.name);
    if (read.has(name)) problems.push(`parameter ${name} is read by more than one param node`);
    read.add(name);
    const shape = declared.get(name);
    if (!shape) problems.push(`%${node.id}: param node ${name} has no Graph.params entry`);
    else if (!sameShape(shape, node.type.shape))
      problems.push(`%${node.id}: param ${name} is [${node.type.shape}] but declared [${shape}]`);
  }
  for (const name of declared.keys())
    if (!read.has(name)) problems.push(`parameter ${name} is declared but never read`);
}

function checkOutputsAndLiveness(graph: Graph, problems: string[]): void {
  const used = new Set<number>();
  for (const node of graph.nodes) for (const i of node.inputs) used.add(i);
  for (const [name, id] of Object.entries(graph.outputs)) {
    if (!Number.isInteger(id) || id < 0 || id >= graph.nodes.length)
      problems.push(`output ${name} refers to missing node %${id}`);
    used.add(id);
  }
  const loss = graph.outputs.loss;
  if (loss !== undefined && graph.nodes[loss] && graph.nodes[loss].type.shape.length !== 0)
    problems.push(`output loss (%${loss}) is not a scalar`);
  for (const node of graph.nodes)
    // an unused input (e.g. targets of a logits-only graph) is harmless; any other unused node is dead code
    if (!used.has(node.id) && node.op !== "input")
      problems.push(`%${node.id} (${node.op}) is dead: nothing reads it`);
}

export function verifyGraph(graph: Graph): string[] {
  const problems: string[] = [];
  checkNodes(graph, problems);
  checkParams(graph, problems);
  checkOutputsAndLiveness(graph, problems);
  return problems;
}
