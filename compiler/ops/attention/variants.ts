// The attention kernel's variants: how many keys (and values) a workgroup stages in workgroup
// memory at a time. Fewer keys per tile wastes less of the last, partly causal tile; more keys
// per tile means fewer barriers. A tile never outgrows the memory budget, so for wide heads
// several names come to the same tile; only one of them is offered.

import type { Node } from "../../ir/ir.js";
import type { KernelVariants } from "../../codegen/template.js";

/** bytes of workgroup memory the key and value tiles may use together */
const TILE_BYTES = 16384;

export const ATTENTION_KEY_TILES = { keys32: 32, keys16: 16, keys64: 64 } as const;
export type AttentionVariant = keyof typeof ATTENTION_KEY_TILES;
export const ATTENTION_DEFAULT: AttentionVariant = "keys32";

export function attentionTiling(
  seq: number,
  headDim: number,
  variant: AttentionVariant = ATTENTION_DEFAULT,
): { queryBlock: number; keyTile: number } {
  const fits = Math.floor(TILE_BYTES / (2 * 4 * headDim));
  return {
    queryBlock: Math.min(64, seq),
    keyTile: Math.max(1, Math.min(ATTENTION_KEY_TILES[variant], fits)),
  };
}

function bucket(letter: string, n: number): string {
  if (n >= 1024) return `${letter}>=1024`;
  if (n >= 128) return `${letter}>=128`;
  return `${letter}<128`;
}

const seqAndHead = (node: Node) => ({ seq: node.type.shape[1], headDim: node.attrs.head_dim as number });

export const attentionVariants: KernelVariants = {
  names: Object.keys(ATTENTION_KEY_TILES),
  shapeClass(node) {
    const { seq, headDim } = seqAndHead(node);
    return `${bucket("t", seq)},hd${headDim}`;
  },
  offered(node) {
    const { seq, headDim } = seqAndHead(node);
    // the default first, so that it is the one kept when another name gives the same tile
    const tiles = new Set<number>();
    return (Object.keys(ATTENTION_KEY_TILES) as AttentionVariant[]).filter((name) => {
      const { keyTile } = attentionTiling(seq, headDim, name);
      if (tiles.has(keyTile)) return false;
      tiles.add(keyTile);
      return true;
    });
  },
  defaultVariant: () => ATTENTION_DEFAULT,
};
