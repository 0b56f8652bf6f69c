// Builds a Graph node by node; every node's type comes from the op catalog, so a builder
// cannot produce an ill-typed graph without throwing at the offending node. A composite op
// (compiler/ops/composite) is expanded into the ops it is made of where it is used.

import type { Attrs, Graph, Init, Param } from "./ir.js";
import { inferType } from "./catalog.js";
import { COMPOSITE_OPS, expandComposite } from "../ops/composite/index.js";

export class GraphBuilder {
  readonly graph: Graph;
  private scopeStack: string[] = [];

  constructor(name: string) {
    this.graph = { name, params: [], nodes: [], outputs: {} };
  }

  /** runs fn with `name` appended to the current scope (scopes label nodes: "layers.2.mlp") */
  scoped<T>(name: string, fn: () => T): T {
    this.scopeStack.push(name);
    try {
      return fn();
    } finally {
      this.scopeStack.pop();
    }
  }

  get scope(): string {
    return this.scopeStack.join(".");
  }

  op(op: string, inputs: number[], attrs: Attrs = {}): number {
    if (Object.hasOwn(COMPOSITE_OPS, op)) return expandComposite(this, op, inputs, attrs);
    const types = inputs.map((i) => this.graph.nodes[i].type);
    const type = inferType(op, types, attrs);
    const id = this.graph.nodes.length;
    this.graph.nodes.push({ id, op, inputs, attrs, type, scope: this.scope });
    return id;
  }

  input(name: string, dtype: "f32" | "i32", shape: number[]): number {
    return this.op("input", [], { name, dtype, shape });
  }

  /** declares a parameter named `<scope>.<local>` and returns the node reading it */
  param(local: string, shape: number[], init: Init, opts: { decay: boolean; group: string }): number {
    const name = this.scope ? `${this.scope}.${local}` : local;
    if (this.graph.params.some((p) => p.name === name))
      throw new Error(`internal: parameter ${name} declared twice`);
    const p: Param = { name, shape, init, decay: opts.decay, group: opts.group };
    this.graph.params.push(p);
    return this.op("param", [], { name, shape });
  }

  output(name: string, value: number): void {
    this.graph.outputs[name] = value;
  }
}
