// The contract between the autodiff driver and the per-op gradient rules.

import type { Attrs, Node, TensorType } from "../../ir/ir.js";
import { sameShape } from "../../ir/ir.js";

export interface GradContext {
  /** the forward node whose operands need gradients */
  node: Node;
  /** the value holding d(loss)/d(node) */
  dy: number;
  type(value: number): TensorType;
  /** the node that computes `value` (forward or backward) */
  nodeOf(value: number): Node;
  /** appends a backward node and returns its value id */
  emit(op: string, inputs: number[], attrs?: Attrs): number;
  /** the gradient summed so far for `value` (from the nodes after this one), if any */
  accumulatedGradient(value: number): number | undefined;
  /**
   * says the rule folded `value`'s gradient so far into the one it returns for it: the driver
   * then takes the returned gradient as the whole sum instead of adding it
   */
  foldsAccumulated(value: number): void;
}

/**
 * Returns one entry per forward operand: the value holding d(loss)/d(operand), or null where the
 * operand has no gradient (integer ids and targets). The driver ignores entries for operands that do
 * not depend on a parameter, so rules may compute them unconditionally.
 */
export type GradRule = (ctx: GradContext) => (number | null)[];

/** reinterprets `value` under `shape` (same element count) when its shape differs */
export function viewAs(ctx: GradContext, value: number, shape: readonly number[]): number {
  return sameShape(ctx.type(value).shape, shape)
    ? value
    : ctx.emit("reshape", [value], { shape: [...shape] });
}
