// A compiled training program: everything the runtime's training engine runs, produced by the
// compiler (compiler/compile.ts compileTraining) so that the runtime never lowers, differentiates
// or renders WGSL itself.
//
// The optimizer's kernels walk the flat parameter, gradient and moment arrays in chunks that the
// runtime sizes to the device's storage-binding limit, so their dispatch shapes are decided at run
// time; the constants below are the contract between their WGSL and the runtime that drives them.

import type { Executable } from "./archx.js";

/** graph outputs named `grad.<param>` are the gradients, in the grad pool laid out like the params */
export const GRAD_PREFIX = "grad.";

/** invocations per workgroup of every AdamW kernel */
export const ADAMW_WORKGROUP_SIZE = 256;
/** partial sums of the first reduction stage per chunk; the second stage sums them in one workgroup */
export const ADAMW_NORM_PARTIALS = 256;
/** the update's per-step uniform, in this order, as f32 */
export const ADAMW_UNIFORM_FIELDS = [
  "lr",
  "beta1",
  "beta2",
  "eps",
  "weight_decay",
  "clip",
  "correction1",
  "correction2",
] as const;

/** the fused AdamW step: WGSL modules, each with entry point `main` */
export interface AdamwModules {
  /** stage 1 of the gradient norm: squared gradients of one chunk into its partial sums */
  gradSquares: string;
  /** stage 2: the squared global norm from every chunk's partials */
  gradNormFinish: string;
  /** the clipped, decayed update of one chunk */
  update: string;
}

export interface TrainingProgram {
  /** the differentiated graph: forward and backward, outputs `loss` and `grad.<param>` */
  train: Executable;
  /** the forward graph alone, planned to share the training program's param pool */
  eval: Executable;
  optimizer: AdamwModules;
}
