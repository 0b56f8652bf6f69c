// Runs a whole graph on the CPU in float64, node by node in topological order. Feeds supply the
// "input" nodes by name, params supply the "param" nodes by name.

import type { Graph, Node } from "../ir/ir.js";
import { numel } from "../ir/ir.js";
import { evaluateNode } from "./evaluate.js";
import type { Tensor } from "./tensor.js";
import { expectType } from "./tensor.js";

export type ParamValues = Map<string, Float32Array | Float64Array>;

function readInput(node: Node, feeds: Record<string, Tensor>): Tensor {
  const name = String(node.attrs.name);
  const fed = feeds[name];
  if (!fed) throw new Error(`interpret: no feed for input '${name}'`);
  expectType(fed, node.type, `input '${name}'`);
  return fed;
}

function readParam(node: Node, params: ParamValues): Tensor {
  const name = String(node.attrs.name);
  const values = params.get(name);
  if (!values) throw new Error(`interpret: no value for parameter '${name}'`);
  if (values.length !== numel(node.type.shape))
    throw new Error(
      `interpret: parameter '${name}' has ${values.length} values, its shape needs ${numel(node.type.shape)}`,
    );
  return { type: node.type, data: Float64Array.from(values) };
}

/** the value of every node, indexed by node id */
export function interpret(graph: Graph, feeds: Record<string, Tensor>, params: ParamValues): Tensor[] {
  const values: Tensor[] = [];
  for (const node of graph.nodes) {
    if (node.op === "input") values.push(readInput(node, feeds));
    else if (node.op === "param") values.push(readParam(node, params));
    else
      values.push(
        evaluateNode(
          node,
          node.inputs.map((i) => values[i]),
        ),
      );
  }
  return values;
}

/** the graph's named outputs ("logits", "loss", ...) */
export function runOutputs(
  graph: Graph,
  feeds: Record<string, Tensor>,
  params: ParamValues,
): Record<string, Tensor> {
  const values = interpret(graph, feeds, params);
  const outputs: Record<string, Tensor> = {};
  for (const [name, id] of Object.entries(graph.outputs)) outputs[name] = values[id];
  return outputs;
}
