// The token-indexed ops, whole: embedding, learned positions and the cross-entropy loss, with their
// definitions (definition.ts), gradient rules (gradient.ts, gradient-loss.ts), WGSL kernels
// (kernel-*.ts) and float64 references (reference.ts, reference-backward.ts), as registry entries.

import { uncounted } from "../../analysis/flops.js";
import { ANCHOR_ONLY, UNFUSED } from "../../passes/fusion-rules.js";
import { emittedOp, type OpEntry } from "../op-entry.js";
import { LOOKUP_BACKWARD_OPS as B, LOOKUP_FORWARD_OPS as F } from "./definition.js";
import { crossEntropyGrad } from "./gradient-loss.js";
import { addPositionsGrad, embeddingGrad } from "./gradient.js";
import {
  addPositionsGradTableTemplate,
  crossEntropyGradTemplate,
  embeddingGradTemplate,
} from "./kernel-backward.js";
import { embeddingTemplate } from "./kernel-embedding.js";
import { crossEntropyTemplate } from "./kernel-loss.js";
import { addPositionsTemplate } from "./kernel-positions.js";
import { addPositionsGradTableRef, crossEntropyGradRef, embeddingGradRef } from "./reference-backward.js";
import { addPositionsReference, crossEntropyReference, embeddingReference } from "./reference.js";

export const LOOKUP_OPS = {
  embedding: {
    def: F.embedding,
    gradient: embeddingGrad,
    fusion: ANCHOR_ONLY,
    kernel: embeddingTemplate,
    reference: embeddingReference,
    flops: uncounted,
  },
  add_positions: {
    def: F.add_positions,
    gradient: addPositionsGrad,
    fusion: ANCHOR_ONLY,
    kernel: addPositionsTemplate,
    reference: addPositionsReference,
    flops: uncounted,
  },
  // a scalar mean: nothing elementwise can follow it element by element
  cross_entropy: {
    def: F.cross_entropy,
    gradient: crossEntropyGrad,
    fusion: UNFUSED,
    kernel: crossEntropyTemplate,
    reference: crossEntropyReference,
    flops: uncounted,
  },
  embedding_grad: emittedOp(B.embedding_grad, embeddingGradTemplate, embeddingGradRef),
  add_positions_grad_table: emittedOp(
    B.add_positions_grad_table,
    addPositionsGradTableTemplate,
    addPositionsGradTableRef,
  ),
  cross_entropy_grad: emittedOp(B.cross_entropy_grad, crossEntropyGradTemplate, crossEntropyGradRef),
} satisfies Record<string, OpEntry>;
