// Decoding one position at a time, whole: definitions and shape rules (definition.ts), WGSL
// kernels (kernel-positions.ts, kernel-attention.ts), float64 references (reference.ts) and FLOPs
// (flops.ts), as registry entries. Decoding graphs are never differentiated.

import { uncounted } from "../../analysis/flops.js";
import { ANCHOR_ONLY } from "../../passes/fusion-rules.js";
import { NOT_DIFFERENTIATED, type OpEntry } from "../op-entry.js";
import { DECODE_OPS_DEFS as D } from "./definition.js";
import { cachedAttentionFlops } from "./flops.js";
import { cachedAttentionTemplate } from "./kernel-attention.js";
import { addPositionAtTemplate, ropeAtTemplate } from "./kernel-positions.js";
import { addPositionAtReference, cachedAttentionReference, ropeAtReference } from "./reference.js";

export const DECODE_OPS = {
  add_position_at: {
    def: D.add_position_at,
    gradient: NOT_DIFFERENTIATED,
    fusion: ANCHOR_ONLY,
    kernel: addPositionAtTemplate,
    reference: addPositionAtReference,
    flops: uncounted,
  },
  rope_at: {
    def: D.rope_at,
    gradient: NOT_DIFFERENTIATED,
    fusion: ANCHOR_ONLY,
    kernel: ropeAtTemplate,
    reference: ropeAtReference,
    flops: uncounted,
  },
  cached_attention: {
    def: D.cached_attention,
    gradient: NOT_DIFFERENTIATED,
    fusion: ANCHOR_ONLY,
    kernel: cachedAttentionTemplate,
    reference: cachedAttentionReference,
    flops: cachedAttentionFlops,
  },
} satisfies Record<string, OpEntry>;
