// The skeleton most backward kernels share: one invocation per independent work item.

import { LINEAR_WORKGROUP, SPREAD_BUILTINS, spreadWorkgroups, u32Constants } from "../../wgsl.js";
import type { TemplateOutput } from "../../template.js";

export const WORKGROUP_SIZE = 64;

/** `body` runs once per item < count with `item: u32` in scope; `prelude` holds constants and helpers */
export function perItem(
  count: number,
  constants: Record<string, number>,
  prelude: string,
  body: string,
): TemplateOutput {
  const code = `${u32Constants({ ...constants, ITEMS: count, WORKGROUP_SIZE })}
${prelude}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(${SPREAD_BUILTINS}) {
  let item = ${LINEAR_WORKGROUP} * WORKGROUP_SIZE + lane;
  if (item >= ITEMS) { return; }
${body}
}`;
  return { code, workgroups: spreadWorkgroups(count, WORKGROUP_SIZE) };
}

/**
 * Statements that reference storage operands a kernel does not read: pipelines use the "auto"
 * layout, which drops unreferenced bindings, and the executor binds every operand.
 */
export function keepBound(operands: string[]): string {
  return operands.map((name) => `  _ = arrayLength(&${name});`).join("\n");
}
