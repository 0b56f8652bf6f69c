// Float64 references of the backward ops, keyed like REFERENCE_OPS; the oracle for their WGSL kernels.

import type { ReferenceOp } from "./backward/common.js";
import { attentionGradKvRef, attentionGradQRef } from "./backward/attention.js";
import {
  fillRef,
  geluGradRef,
  reduceLeadingRef,
  reshapeRef,
  siluGradRef,
  sliceRef,
} from "./backward/elementwise.js";
import { addPositionsGradTableRef, crossEntropyGradRef, embeddingGradRef } from "./backward/lookup.js";
import {
  layernormGradGainRef,
  layernormGradXRef,
  rmsnormGradGainRef,
  rmsnormGradXRef,
} from "./backward/norms.js";
import { ropeGradRef } from "./backward/rope.js";

export const BACKWARD_REFERENCE_OPS = {
  fill: fillRef,
  reshape: reshapeRef,
  reduce_leading: reduceLeadingRef,
  slice: sliceRef,
  gelu_grad: geluGradRef,
  silu_grad: siluGradRef,
  rmsnorm_grad_x: rmsnormGradXRef,
  rmsnorm_grad_gain: rmsnormGradGainRef,
  layernorm_grad_x: layernormGradXRef,
  layernorm_grad_gain: layernormGradGainRef,
  rope_grad: ropeGradRef,
  attention_grad_q: attentionGradQRef,
  attention_grad_kv: attentionGradKvRef,
  embedding_grad: embeddingGradRef,
  add_positions_grad_table: addPositionsGradTableRef,
  cross_entropy_grad: crossEntropyGradRef,
} satisfies Record<string, ReferenceOp>;
