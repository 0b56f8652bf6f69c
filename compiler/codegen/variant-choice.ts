// Which variant of its template a kernel is rendered with: the one a tuning table names for the
// node's op and shape class (or, failing that, for the op it is tuned as), when the node can use
// it, else the template's default. A table made
// on another archc, or edited by hand, can name a variant the node cannot use (a vec4 load on an
// odd size): that entry is passed over, never an error.

import { tuningKey, type TuningTable } from "../../format/tuning.js";
import { kernelTemplate } from "../ops/registry.js";
import type { Graph, Node } from "../ir/ir.js";
import type { KernelTemplate } from "./template.js";

export function chooseVariant(
  template: KernelTemplate,
  node: Node,
  graph: Graph,
  tuning: TuningTable | undefined,
): string | undefined {
  const variants = template.variants;
  if (!variants) return undefined;
  const shapeClass = variants.shapeClass(node, graph);
  const tuned =
    tuning?.get(tuningKey(node.op, shapeClass)) ??
    (variants.tunedAs === undefined ? undefined : tuning?.get(tuningKey(variants.tunedAs, shapeClass)));
  if (tuned !== undefined && variants.offered(node, graph).includes(tuned)) return tuned;
  return variants.defaultVariant(node, graph);
}

/** a table that names `variant` for the shape class of every `op` node of `graph` */
export function forcingTable(graph: Graph, op: string, variant: string): TuningTable {
  const variants = kernelTemplate(op)?.variants;
  if (!variants) throw new Error(`internal: ${op} has no kernel variants`);
  if (!variants.names.includes(variant)) throw new Error(`internal: ${op} has no variant ${variant}`);
  const table = new Map<string, string>();
  for (const node of graph.nodes)
    if (node.op === op) table.set(tuningKey(op, variants.shapeClass(node, graph)), variant);
  return table;
}
