// The contract between the renderer and one kernel template. A template knows how to compute
// one op (its anchor) and hands every output element to `finish`, where the fused epilogue runs.
// A template may know several ways to compute its op (variants): which is fastest depends on the
// device and the sizes, so `archc tune` measures them and a tuning table names one per shape class.

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
  /** the variant to render (one of KernelVariants.offered), for templates that have variants */
  variant?: string;
  /**
   * whether operand i has a binding of its own: not shared with another operand or the epilogue,
   * not reached through a pool or stack range. Only such an operand may be declared array<vec4f>.
   * Absent: no operand has.
   */
  ownBinding?(i: number): boolean;
}

export interface TemplateOutput {
  /** module-scope WGSL after the bindings: constants, helpers, then `fn main` */
  code: string;
  workgroups: [number, number, number];
  /** operands (each with its own binding) the code reads as array<vec4f> instead of array<f32> */
  vec4Operands?: number[];
}

/**
 * The variants of a template. Names are stable: tuning files (format/tuning.ts) store them.
 * Entries of a tuning table are per shape class, a short string that buckets the node's sizes
 * coarsely (few classes per model, the same on every run), so that one measurement serves every
 * node of the class and a table stays small enough to commit.
 */
export interface KernelVariants {
  /** every variant the template knows, the usual default first */
  names: readonly string[];
  shapeClass(node: Node, graph: Graph): string;
  /** the variants this node can use, its default among them (some need aligned sizes, say) */
  offered(node: Node, graph: Graph): string[];
  /** the variant used when no tuning entry names one: a function of the node alone */
  defaultVariant(node: Node, graph: Graph): string;
  /**
   * another op whose tuning entries serve this one when it has none of its own (rmsnorm_matmul is
   * a matmul with a prologue: a table measured on a training step's products still applies)
   */
  tunedAs?: string;
}

export interface KernelTemplate {
  /** readable names for the anchor's operands, in operand order (used for binding names) */
  operandNames(node: Node): string[];
  render(ctx: TemplateContext): TemplateOutput;
  variants?: KernelVariants;
}
