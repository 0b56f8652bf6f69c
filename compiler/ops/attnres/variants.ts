// The AttnRes aggregation's variants: how many tokens one workgroup aggregates, one segment of
// invocations per token. A narrow row (a small model's) leaves most of a one-token workgroup's
// barriers and scheduling to few invocations; several tokens per workgroup share them.

import { rowsOf } from "../../ir/ops.js";
import type { KernelVariants } from "../../codegen/template.js";
import { rowWorkgroupSize } from "../norms/kernel.js";

export const ATTNRES_TOKENS = { tokens1: 1, tokens2: 2, tokens4: 4 } as const;
export type AttnresVariant = keyof typeof ATTNRES_TOKENS;
export const ATTNRES_DEFAULT: AttnresVariant = "tokens1";

/** invocations per token: a tree sum per source, so fewer, fuller invocations keep barriers down */
export function attnresLanes(dim: number): number {
  return rowWorkgroupSize(dim, 64);
}

export const attnresVariants: KernelVariants = {
  names: Object.keys(ATTNRES_TOKENS),
  shapeClass(node) {
    const shape = node.type.shape;
    const lanes = attnresLanes(shape[shape.length - 1]);
    const rows = rowsOf(shape);
    return `rows${rows >= 1024 ? ">=1024" : "<1024"},lanes${lanes}`;
  },
  offered: () => Object.keys(ATTNRES_TOKENS),
  defaultVariant: () => ATTNRES_DEFAULT,
};
