// Activation memory: bytes of the forward values that the backward pass reads. Found by running
// autodiff and collecting the non-parameter forward nodes that any backward node takes as an operand;
// parameters are not activations, and values the backward never reads need not be kept.

import type { Graph } from "../ir/ir.js";
import { numel } from "../ir/ir.js";
import { differentiate } from "../passes/autodiff.js";

const BYTES_PER_VALUE = 4; // f32 and i32 alike

export interface ActivationMemory {
  /** forward values kept for the backward pass */
  savedBytes: number;
  /** every forward value except parameters: the memory of a forward pass that frees nothing */
  forwardBytes: number;
}

function bytesOf(graph: Graph, ids: Iterable<number>): number {
  let values = 0;
  for (const id of ids) values += numel(graph.nodes[id].type.shape);
  return values * BYTES_PER_VALUE;
}

export function activationMemory(forward: Graph): ActivationMemory {
  const forwardValues = forward.nodes.filter((n) => n.op !== "param").map((n) => n.id);
  const full = differentiate(forward);
  const saved = new Set<number>();
  for (const node of full.nodes.slice(forward.nodes.length))
    for (const input of node.inputs)
      if (input < forward.nodes.length && forward.nodes[input].op !== "param") saved.add(input);
  return { savedBytes: bytesOf(forward, saved), forwardBytes: bytesOf(forward, forwardValues) };
}
