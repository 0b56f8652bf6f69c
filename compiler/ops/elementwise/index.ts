// The elementwise ops, whole: definitions (definition.ts), gradient rules (gradient.ts), their WGSL
// expressions (wgsl.ts: one kernel template serves them all, kernel.ts, and fusion puts them in
// other kernels' epilogues), the pointwise-derivative kernels (kernel-backward.ts) and float64
// references (reference.ts, reference-backward.ts), as registry entries.

import { uncounted } from "../../analysis/flops.js";
import { ELEMENTWISE } from "../../passes/fusion-rules.js";
import type { GradRule } from "../../passes/grad-rules/types.js";
import type { ReferenceOp } from "../../reference/ops.js";
import { emittedOp, type OpEntry } from "../op-entry.js";
import { ELEMENTWISE_BACKWARD_OPS as B, ELEMENTWISE_FORWARD_OPS as F } from "./definition.js";
import { addGrad, geluGrad, mulGrad, scaleGrad, sigmoidGrad, siluGrad, tanhGrad } from "./gradient.js";
import {
  geluGradTemplate,
  sigmoidGradTemplate,
  siluGradTemplate,
  tanhGradTemplate,
} from "./kernel-backward.js";
import { elementwiseTemplate } from "./kernel.js";
import { geluGradRef, sigmoidGradRef, siluGradRef, tanhGradRef } from "./reference-backward.js";
import {
  addReference,
  geluReference,
  mulReference,
  scaleReference,
  sigmoidReference,
  siluReference,
  tanhReference,
} from "./reference.js";

/** a kernel of its own, or a step of its producer's epilogue */
const elementwise = (def: OpEntry["def"], gradient: GradRule, reference: ReferenceOp): OpEntry => ({
  def,
  gradient,
  fusion: ELEMENTWISE,
  kernel: elementwiseTemplate,
  reference,
  flops: uncounted,
});

export const ELEMENTWISE_OPS = {
  add: elementwise(F.add, addGrad, addReference),
  mul: elementwise(F.mul, mulGrad, mulReference),
  scale: elementwise(F.scale, scaleGrad, scaleReference),
  gelu: elementwise(F.gelu, geluGrad, geluReference),
  silu: elementwise(F.silu, siluGrad, siluReference),
  tanh: elementwise(F.tanh, tanhGrad, tanhReference),
  sigmoid: elementwise(F.sigmoid, sigmoidGrad, sigmoidReference),
  gelu_grad: emittedOp(B.gelu_grad, geluGradTemplate, geluGradRef),
  silu_grad: emittedOp(B.silu_grad, siluGradTemplate, siluGradRef),
  tanh_grad: emittedOp(B.tanh_grad, tanhGradTemplate, tanhGradRef),
  sigmoid_grad: emittedOp(B.sigmoid_grad, sigmoidGradTemplate, sigmoidGradRef),
} satisfies Record<string, OpEntry>;
