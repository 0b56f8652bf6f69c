// The gradient rule of every differentiable forward op, keyed by op name.

import { attentionGrad } from "./attention.js";
import { attnresGrad, attnresStaticGrad } from "./attnres.js";
import { crossEntropyGrad } from "./cross-entropy.js";
import { addGrad, geluGrad, mulGrad, scaleGrad, siluGrad } from "./elementwise.js";
import { addPositionsGrad, embeddingGrad } from "./embedding.js";
import { matmulGrad } from "./matmul.js";
import { layernormGrad, rmsnormGrad } from "./norms.js";
import { ropeGrad } from "./rope.js";
import type { GradRule } from "./types.js";

export type { GradContext, GradRule } from "./types.js";

export const GRAD_RULES: Record<string, GradRule> = {
  matmul: matmulGrad,
  add: addGrad,
  mul: mulGrad,
  scale: scaleGrad,
  gelu: geluGrad,
  silu: siluGrad,
  rmsnorm: rmsnormGrad,
  layernorm: layernormGrad,
  rope: ropeGrad,
  attention: attentionGrad,
  attnres: attnresGrad,
  attnres_static: attnresStaticGrad,
  embedding: embeddingGrad,
  add_positions: addPositionsGrad,
  cross_entropy: crossEntropyGrad,
};
