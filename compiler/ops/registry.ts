// The op registry: every op of the IR with every part the compiler needs of it, in one table.
//
//   def        its operands, attributes and shape rule
//   gradient   how autodiff differentiates it, or NOT_DIFFERENTIATED
//   fusion     how fusion may merge it with its neighbours (passes/fusion-rules.ts)
//   kernel     its WGSL kernel template, or NO_KERNEL
//   reference  its float64 implementation, or NO_KERNEL
//   flops      its forward FLOPs by kind
//
// The table's type lists every op name of the catalog and every part, so an op added to the
// catalog without, say, a reference implementation does not compile. Autodiff, fusion, code
// generation, the interpreter and the cost model read their part from here.
//
// Each op family keeps all of those parts in its own folder, compiler/ops/<family>/, whose
// index.ts hands the registry the family's entries; only the leaves (input, param) are here.
// Composite ops (compiler/ops/composite) are not here: declared as small graphs of these ops, the
// graph builder expands them, and they get every part from the ops they are made of.

import { uncounted, type FlopRule } from "../analysis/flops.js";
import type { KernelTemplate } from "../codegen/template.js";
import type { OpName } from "../ir/catalog.js";
import type { OpDef } from "../ir/ops.js";
import { FORWARD_OPS } from "../ir/ops.js";
import { UNFUSED, type FusionRule } from "../passes/fusion-rules.js";
import type { GradRule } from "../passes/grad-rules/types.js";
import type { ReferenceOp } from "../reference/ops.js";
import { ATTENTION_OPS } from "./attention/index.js";
import { ATTNRES_OPS } from "./attnres/index.js";
import { ELEMENTWISE_OPS } from "./elementwise/index.js";
import { LOOKUP_OPS } from "./lookup/index.js";
import { MATMUL_OPS } from "./matmul/index.js";
import { NORMS_OPS } from "./norms/index.js";
import { NO_KERNEL, NOT_DIFFERENTIATED, type OpEntry } from "./op-entry.js";
import { PLUMBING_OPS } from "./plumbing/index.js";
import { ROPE_OPS } from "./rope/index.js";
import { STREAMS_OPS } from "./streams/index.js";
import { SINKHORN_OPS } from "./sinkhorn/index.js";
import { DECODE_OPS } from "./decode/index.js";

export { NO_KERNEL, NOT_DIFFERENTIATED, type OpEntry } from "./op-entry.js";

/** inputs and parameters: bound to buffers, not computed */
const leaf = (def: OpDef): OpEntry => ({
  def,
  gradient: NOT_DIFFERENTIATED,
  fusion: UNFUSED,
  kernel: NO_KERNEL,
  reference: NO_KERNEL,
  flops: uncounted,
});

export const OP_REGISTRY: { readonly [op in OpName]: OpEntry } = {
  input: leaf(FORWARD_OPS.input),
  param: leaf(FORWARD_OPS.param),
  // one folder per op family, each holding all of its ops' parts
  ...LOOKUP_OPS, // embedding, learned positions, cross-entropy
  ...MATMUL_OPS,
  ...ELEMENTWISE_OPS,
  ...NORMS_OPS,
  ...ROPE_OPS,
  ...ATTENTION_OPS,
  ...ATTNRES_OPS,
  ...STREAMS_OPS, // hyper-connection and mHC residual streams
  ...SINKHORN_OPS, // Sinkhorn–Knopp, for mHC's doubly stochastic mixing
  ...PLUMBING_OPS, // what autodiff emits to reshape, slice, fill and reduce gradients
  ...DECODE_OPS, // one position at a time, against caches of the earlier positions' keys and values
};

function entry(op: string): OpEntry | undefined {
  return (OP_REGISTRY as Readonly<Record<string, OpEntry>>)[op];
}

export function gradientRule(op: string): GradRule | undefined {
  const rule = entry(op)?.gradient;
  return rule === undefined || rule === NOT_DIFFERENTIATED ? undefined : rule;
}

export function fusionRule(op: string): FusionRule {
  return entry(op)?.fusion ?? UNFUSED;
}

export function kernelTemplate(op: string): KernelTemplate | undefined {
  const kernel = entry(op)?.kernel;
  return kernel === undefined || kernel === NO_KERNEL ? undefined : kernel;
}

/** the names of an op's kernel variants (codegen/template.ts), or undefined when it has none */
export function variantNames(op: string): readonly string[] | undefined {
  return kernelTemplate(op)?.variants?.names;
}

/** the ops whose kernels come in variants, the ones `archc tune` measures */
export function tunableOps(): string[] {
  return Object.keys(OP_REGISTRY).filter((op) => variantNames(op) !== undefined);
}

export function referenceOp(op: string): ReferenceOp | undefined {
  const reference = entry(op)?.reference;
  return reference === undefined || reference === NO_KERNEL ? undefined : reference;
}

export function flopRule(op: string): FlopRule {
  return entry(op)?.flops ?? uncounted;
}
