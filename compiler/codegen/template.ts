// The contract between the renderer and one kernel template. A template knows how to compute
// one op (its anchor) and hands every output element to `finish`, where the fused epilogue runs.

import type { Graph, Node } from "../ir/ir.js";

export interface TemplateContext {
  graph: Graph;
  /** the anchor node the template computes */
  node: Node;
  /** WGSL storage variable holding the anchor's operand i (operands bound once even if repeated) */
  operand(i: number): string;
  /** WGSL storage variable the kernel writes */
  output: string;
  /** WGSL call that applies the fused epilogue to `value`, the anchor's result at flat index `index` */
  finish(index: string, value: string): string;
  /**
   * set when the anchor's sources are a prefix of a source stack (passes/stacks.ts), bound as one
   * range: source i < count starts at element i * stride of `stack`, count is the range's length
   * over the stride, and `extra` (when set) is one more source after them; `capacity` bounds the
   * count (the whole stack, and the extra) for arrays sized at compile time
   */
  stackedSources?: { stack: string; stride: number; extra?: string; capacity: number };
}

export interface TemplateOutput {
  /** module-scope WGSL after the bindings: constants, helpers, then `fn main` */
  code: string;
  workgroups: [number, number, number];
}

export interface KernelTemplate {
  /** readable names for the anchor's operands, in operand order (used for binding names) */
  operandNames(node: Node): string[];
  render(ctx: TemplateContext): TemplateOutput;
}
