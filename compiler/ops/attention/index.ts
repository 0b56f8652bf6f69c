// Causal attention, whole: definition and shape rules (definition.ts), gradient rule (gradient.ts),
// the flash-style WGSL kernel and its backward kernels (kernel.ts, kernel-backward.ts), float64
// references (reference.ts, reference-backward.ts) and FLOPs (flops.ts), as registry entries.

import { ANCHOR_ONLY } from "../../passes/fusion-rules.js";
import { emittedOp, type OpEntry } from "../op-entry.js";
import { ATTENTION_BACKWARD_OPS as B, ATTENTION_FORWARD_OPS as F } from "./definition.js";
import { attentionFlops } from "./flops.js";
import { attentionGrad } from "./gradient.js";
import { attentionGradKvTemplate, attentionGradQTemplate } from "./kernel-backward.js";
import { attentionTemplate } from "./kernel.js";
import { attentionGradKvRef, attentionGradQRef } from "./reference-backward.js";
import { attentionReference } from "./reference.js";

export const ATTENTION_OPS = {
  attention: {
    def: F.attention,
    gradient: attentionGrad,
    fusion: ANCHOR_ONLY,
    kernel: attentionTemplate,
    reference: attentionReference,
    flops: attentionFlops,
  },
  attention_grad_q: emittedOp(B.attention_grad_q, attentionGradQTemplate, attentionGradQRef),
  attention_grad_kv: emittedOp(B.attention_grad_kv, attentionGradKvTemplate, attentionGradKvRef),
} satisfies Record<string, OpEntry>;
