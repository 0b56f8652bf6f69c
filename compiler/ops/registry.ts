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
// An op family in its own folder (compiler/ops/attnres/) holds all of those parts and hands the
// registry its entries. The other ops' parts still live with their pass (ir/ops.ts,
// ir/ops-backward.ts, passes/grad-rules/, codegen/templates/, codegen/kernels/backward/,
// reference/, analysis/flops.ts) and move into family folders the same way.

import type { KernelTemplate } from "../codegen/template.js";
import { BACKWARD_TEMPLATES as BACKWARD_KERNELS } from "../codegen/kernels/backward/index.js";
import { addPositionsTemplate } from "../codegen/templates/add-positions.js";
import { attentionTemplate } from "../codegen/templates/attention.js";
import { crossEntropyTemplate } from "../codegen/templates/cross-entropy.js";
import { elementwiseTemplate } from "../codegen/templates/elementwise.js";
import { embeddingTemplate } from "../codegen/templates/embedding.js";
import { matmulTemplate } from "../codegen/templates/matmul.js";
import { layernormTemplate, rmsnormTemplate } from "../codegen/templates/norm.js";
import { ropeTemplate } from "../codegen/templates/rope.js";
import { attentionFlops, matmulFlops, uncounted, type FlopRule } from "../analysis/flops.js";
import type { OpName } from "../ir/catalog.js";
import type { OpDef } from "../ir/ops.js";
import { ATTNRES_OPS } from "./attnres/index.js";
import { NO_KERNEL, NOT_DIFFERENTIATED, type OpEntry } from "./op-entry.js";
import { BACKWARD_OPS } from "../ir/ops-backward.js";
import { FORWARD_OPS } from "../ir/ops.js";
import { ANCHOR_ONLY, ELEMENTWISE, UNFUSED, type FusionRule } from "../passes/fusion-rules.js";
import { attentionGrad } from "../passes/grad-rules/attention.js";
import { crossEntropyGrad } from "../passes/grad-rules/cross-entropy.js";
import { addGrad, geluGrad, mulGrad, scaleGrad, siluGrad } from "../passes/grad-rules/elementwise.js";
import { addPositionsGrad, embeddingGrad } from "../passes/grad-rules/embedding.js";
import { matmulGrad } from "../passes/grad-rules/matmul.js";
import { layernormGrad, rmsnormGrad } from "../passes/grad-rules/norms.js";
import { ropeGrad } from "../passes/grad-rules/rope.js";
import type { GradRule } from "../passes/grad-rules/types.js";
import { BACKWARD_REFERENCE_OPS as BACKWARD_REFERENCE } from "../reference/backward-ops.js";
import type { ReferenceOp } from "../reference/backward/common.js";
import { REFERENCE_OPS as REFERENCE } from "../reference/ops.js";

const F = FORWARD_OPS;
const B = BACKWARD_OPS;

/** a backward op: computed by its own kernel, never fused into or differentiated */
function backward(
  op: keyof typeof BACKWARD_OPS & keyof typeof BACKWARD_KERNELS & keyof typeof BACKWARD_REFERENCE,
): OpEntry {
  return {
    def: B[op],
    gradient: NOT_DIFFERENTIATED,
    fusion: UNFUSED,
    kernel: BACKWARD_KERNELS[op],
    reference: BACKWARD_REFERENCE[op],
    flops: uncounted,
  };
}

const leaf = (def: OpDef): OpEntry => ({
  def,
  gradient: NOT_DIFFERENTIATED,
  fusion: UNFUSED,
  kernel: NO_KERNEL,
  reference: NO_KERNEL,
  flops: uncounted,
});

const elementwise = (def: OpDef, gradient: GradRule, reference: ReferenceOp): OpEntry => ({
  def,
  gradient,
  fusion: ELEMENTWISE,
  kernel: elementwiseTemplate,
  reference,
  flops: uncounted,
});

export { NO_KERNEL, NOT_DIFFERENTIATED, type OpEntry } from "./op-entry.js";

export const OP_REGISTRY: { readonly [op in OpName]: OpEntry } = {
  // leaves
  input: leaf(F.input),
  param: leaf(F.param),

  // lookup: token and position tables
  embedding: {
    def: F.embedding,
    gradient: embeddingGrad,
    fusion: ANCHOR_ONLY,
    kernel: embeddingTemplate,
    reference: REFERENCE.embedding,
    flops: uncounted,
  },
  add_positions: {
    def: F.add_positions,
    gradient: addPositionsGrad,
    fusion: ANCHOR_ONLY,
    kernel: addPositionsTemplate,
    reference: REFERENCE.add_positions,
    flops: uncounted,
  },
  embedding_grad: backward("embedding_grad"),
  add_positions_grad_table: backward("add_positions_grad_table"),

  // matmul
  matmul: {
    def: F.matmul,
    gradient: matmulGrad,
    fusion: ANCHOR_ONLY,
    kernel: matmulTemplate,
    reference: REFERENCE.matmul,
    flops: matmulFlops,
  },

  // elementwise
  add: elementwise(F.add, addGrad, REFERENCE.add),
  mul: elementwise(F.mul, mulGrad, REFERENCE.mul),
  scale: elementwise(F.scale, scaleGrad, REFERENCE.scale),
  gelu: elementwise(F.gelu, geluGrad, REFERENCE.gelu),
  silu: elementwise(F.silu, siluGrad, REFERENCE.silu),
  gelu_grad: backward("gelu_grad"),
  silu_grad: backward("silu_grad"),

  // norms
  rmsnorm: {
    def: F.rmsnorm,
    gradient: rmsnormGrad,
    fusion: ANCHOR_ONLY,
    kernel: rmsnormTemplate,
    reference: REFERENCE.rmsnorm,
    flops: uncounted,
  },
  layernorm: {
    def: F.layernorm,
    gradient: layernormGrad,
    fusion: ANCHOR_ONLY,
    kernel: layernormTemplate,
    reference: REFERENCE.layernorm,
    flops: uncounted,
  },
  rmsnorm_grad_x: backward("rmsnorm_grad_x"),
  rmsnorm_grad_gain: backward("rmsnorm_grad_gain"),
  layernorm_grad_x: backward("layernorm_grad_x"),
  layernorm_grad_gain: backward("layernorm_grad_gain"),

  // rotary positions
  rope: {
    def: F.rope,
    gradient: ropeGrad,
    fusion: ANCHOR_ONLY,
    kernel: ropeTemplate,
    reference: REFERENCE.rope,
    flops: uncounted,
  },
  rope_grad: backward("rope_grad"),

  // attention
  attention: {
    def: F.attention,
    gradient: attentionGrad,
    fusion: ANCHOR_ONLY,
    kernel: attentionTemplate,
    reference: REFERENCE.attention,
    flops: attentionFlops,
  },
  attention_grad_q: backward("attention_grad_q"),
  attention_grad_kv: backward("attention_grad_kv"),

  // attention residuals: one folder holds all of the family's parts
  ...ATTNRES_OPS,

  // loss: a scalar mean, so nothing elementwise can follow it element by element
  cross_entropy: {
    def: F.cross_entropy,
    gradient: crossEntropyGrad,
    fusion: UNFUSED,
    kernel: crossEntropyTemplate,
    reference: REFERENCE.cross_entropy,
    flops: uncounted,
  },
  cross_entropy_grad: backward("cross_entropy_grad"),

  // plumbing that autodiff emits (slices and reshapes at aligned offsets become views, no kernel)
  fill: backward("fill"),
  reshape: backward("reshape"),
  reduce_leading: backward("reduce_leading"),
  slice: backward("slice"),
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

export function referenceOp(op: string): ReferenceOp | undefined {
  const reference = entry(op)?.reference;
  return reference === undefined || reference === NO_KERNEL ? undefined : reference;
}

export function flopRule(op: string): FlopRule {
  return entry(op)?.flops ?? uncounted;
}
