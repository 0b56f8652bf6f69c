// The table of kernel templates, keyed by the op a kernel is anchored on.
//
// To give a new op (a backward op, say) a GPU kernel: write compiler/codegen/templates/<op>.ts
// exporting a KernelTemplate (operandNames + render; see template.ts, and call ctx.finish() on every
// value written so fused epilogues apply), then add one entry below. Elementwise ops instead get an
// entry in elementwise-ops.ts and are then both stand-alone kernels and fusable epilogues. Backward
// ops' templates live in kernels/backward/ and join the table through its index.

import { ELEMENTWISE_WGSL } from "./elementwise-ops.js";
import { BACKWARD_TEMPLATES } from "./kernels/backward/index.js";
import type { KernelTemplate } from "./template.js";
import { addPositionsTemplate } from "./templates/add-positions.js";
import { attentionTemplate } from "./templates/attention.js";
import { attnresStaticTemplate } from "./templates/attnres-static.js";
import { attnresTemplate } from "./templates/attnres.js";
import { crossEntropyTemplate } from "./templates/cross-entropy.js";
import { elementwiseTemplate } from "./templates/elementwise.js";
import { embeddingTemplate } from "./templates/embedding.js";
import { matmulTemplate } from "./templates/matmul.js";
import { layernormTemplate, rmsnormTemplate } from "./templates/norm.js";
import { ropeTemplate } from "./templates/rope.js";

export const KERNEL_TEMPLATES: Record<string, KernelTemplate> = {
  embedding: embeddingTemplate,
  add_positions: addPositionsTemplate,
  matmul: matmulTemplate,
  rmsnorm: rmsnormTemplate,
  layernorm: layernormTemplate,
  rope: ropeTemplate,
  attention: attentionTemplate,
  attnres: attnresTemplate,
  attnres_static: attnresStaticTemplate,
  cross_entropy: crossEntropyTemplate,
  ...Object.fromEntries(Object.keys(ELEMENTWISE_WGSL).map((op) => [op, elementwiseTemplate])),
  ...BACKWARD_TEMPLATES,
};
