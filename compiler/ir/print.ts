// The stable text form of a graph: what `archc ir` prints and what golden files hold. Attributes
// print in sorted key order and numbers in JavaScript's shortest round-trip form, so the text only
// changes when the graph does.

import type { AttrValue, Graph, Init, Node } from "./ir.js";
import { typeToString } from "./ir.js";

function formatInit(init: Init): string {
  if (init.kind === "normal") return `normal(${init.std})`;
  return init.kind === "values" ? `values(${init.values.join(",")})` : init.kind;
}

function formatAttr(value: AttrValue): string {
  return Array.isArray(value) ? `[${value.join(",")}]` : String(value);
}

function formatAttrs(node: Node): string {
  // input/param attrs repeat what the line already shows (name, type)
  if (node.op === "input" || node.op === "param") return "";
  const keys = Object.keys(node.attrs).sort();
  if (keys.length === 0) return "";
  return ` {${keys.map((k) => `${k}=${formatAttr(node.attrs[k])}`).join(", ")}}`;
}

function formatNode(node: Node): string {
  const type = typeToString(node.type);
  const where = node.scope ? `   # ${node.scope}` : "";
  if (node.op === "input" || node.op === "param")
    return `%${node.id} = ${node.op} ${String(node.attrs.name)} : ${type}${where}`;
  const operands = node.inputs.map((i) => `%${i}`).join(", ");
  return `%${node.id} = ${node.op} ${operands}${formatAttrs(node)} : ${type}${where}`;
}

export function printGraph(graph: Graph, header?: Record<string, number>): string {
  const settings = header
    ? ` (${Object.entries(header)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")})`
    : "";
  const lines = [`graph ${graph.name}${settings}`];
  for (const p of graph.params)
    lines.push(
      `param ${p.name}: f32[${p.shape.join(",")}] = ${formatInit(p.init)}  # ${p.group}${p.decay ? ", decay" : ""}`,
    );
  for (const node of graph.nodes) lines.push(formatNode(node));
  for (const [name, id] of Object.entries(graph.outputs)) lines.push(`output ${name} = %${id}`);
  return lines.join("\n") + "\n";
}
