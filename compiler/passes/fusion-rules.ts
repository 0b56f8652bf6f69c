// How fusion may treat an op: whether its kernel hands each result element to an epilogue, and
// whether the op can itself be such an epilogue step. Every op names its rule in the op registry
// (compiler/ops/registry.ts); fusion.ts applies them.

export interface FusionRule {
  /** the op's kernel hands each result element to an epilogue, so elementwise consumers can join */
  takesEpilogue: boolean;
  /** the op can itself join its producer's epilogue */
  joinsProducer: boolean;
}

/** a kernel whose result elementwise ops may follow in the same kernel */
export const ANCHOR_ONLY: FusionRule = { takesEpilogue: true, joinsProducer: false };
/** an elementwise op: a kernel of its own, or a step of its producer's epilogue */
export const ELEMENTWISE: FusionRule = { takesEpilogue: true, joinsProducer: true };
/** its own kernel, alone (a scalar result, a backward kernel, or no kernel at all) */
export const UNFUSED: FusionRule = { takesEpilogue: false, joinsProducer: false };
