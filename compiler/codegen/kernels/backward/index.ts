// Kernel templates of the backward ops, keyed by op, for the codegen template registry.

import type { KernelTemplate } from "../../template.js";
import { attentionGradKvTemplate, attentionGradQTemplate } from "./attention.js";
import { addPositionsGradTableTemplate, crossEntropyGradTemplate, embeddingGradTemplate } from "./lookup.js";
import {
  layernormGradGainTemplate,
  layernormGradXTemplate,
  rmsnormGradGainTemplate,
  rmsnormGradXTemplate,
} from "./norms.js";
import { fillTemplate, reduceLeadingTemplate, reshapeTemplate, sliceTemplate } from "./plumbing.js";
import { geluGradTemplate, siluGradTemplate } from "./pointwise.js";
import { ropeGradTemplate } from "./rope.js";

export const BACKWARD_TEMPLATES = {
  fill: fillTemplate,
  reshape: reshapeTemplate,
  reduce_leading: reduceLeadingTemplate,
  slice: sliceTemplate,
  gelu_grad: geluGradTemplate,
  silu_grad: siluGradTemplate,
  rmsnorm_grad_x: rmsnormGradXTemplate,
  rmsnorm_grad_gain: rmsnormGradGainTemplate,
  layernorm_grad_x: layernormGradXTemplate,
  layernorm_grad_gain: layernormGradGainTemplate,
  rope_grad: ropeGradTemplate,
  attention_grad_q: attentionGradQTemplate,
  attention_grad_kv: attentionGradKvTemplate,
  embedding_grad: embeddingGradTemplate,
  add_positions_grad_table: addPositionsGradTableTemplate,
  cross_entropy_grad: crossEntropyGradTemplate,
} satisfies Record<string, KernelTemplate>;
