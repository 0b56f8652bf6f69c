// The residual-stream family (hyper-connections, mHC), whole: definitions and shape rules
// (definition.ts), gradient rules (gradient.ts), WGSL kernels (kernel.ts), float64 references
// (reference.ts) and FLOP counts (flops.ts), as entries of the op registry.

import { uncounted } from "../../analysis/flops.js";
import { ANCHOR_ONLY } from "../../passes/fusion-rules.js";
import { emittedOp, type OpEntry } from "../op-entry.js";
import { STREAMS_BACKWARD_OPS as B, STREAMS_FORWARD_OPS as F } from "./definition.js";
import { streamFlops } from "./flops.js";
import { streamExpandGrad, streamReadGrad, streamWriteGrad } from "./gradient.js";
import {
  streamExpandTemplate,
  streamGramTemplate,
  streamMixTemplate,
  streamReadTemplate,
  streamWriteTemplate,
} from "./kernel.js";
import { streamExpandRef, streamGramRef, streamMixRef, streamReadRef, streamWriteRef } from "./reference.js";

export const STREAMS_OPS = {
  stream_expand: {
    def: F.stream_expand,
    gradient: streamExpandGrad,
    fusion: ANCHOR_ONLY,
    kernel: streamExpandTemplate,
    reference: streamExpandRef,
    flops: uncounted,
  },
  stream_read: {
    def: F.stream_read,
    gradient: streamReadGrad,
    fusion: ANCHOR_ONLY,
    kernel: streamReadTemplate,
    reference: streamReadRef,
    flops: streamFlops,
  },
  stream_write: {
    def: F.stream_write,
    gradient: streamWriteGrad,
    fusion: ANCHOR_ONLY,
    kernel: streamWriteTemplate,
    reference: streamWriteRef,
    flops: streamFlops,
  },
  stream_mix: emittedOp(B.stream_mix, streamMixTemplate, streamMixRef),
  stream_gram: emittedOp(B.stream_gram, streamGramTemplate, streamGramRef),
} satisfies Record<keyof typeof F | keyof typeof B, OpEntry>;
