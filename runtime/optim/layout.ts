// All parameters in one flat array (and their gradients, m and v in arrays laid out alike), so one
// optimizer kernel updates everything. Weight decay is a bit per element, set from Param.decay.

import { numel, type Param } from "../../format/archx.js";

export interface ParamSegment {
  name: string;
  offset: number; // elements
  size: number; // elements
  decay: boolean;
}

export interface FlatLayout {
  segments: ParamSegment[];
  total: number; // elements, including alignment padding
}

/** parameters in declaration order; each segment starts at a multiple of `alignElements` */
export function flatLayout(params: readonly Param[], alignElements = 1): FlatLayout {
  const segments: ParamSegment[] = [];
  let offset = 0;
  for (const p of params) {
    offset = Math.ceil(offset / alignElements) * alignElements;
    const size = numel(p.shape);
    segments.push({ name: p.name, offset, size, decay: p.decay });
    offset += size;
  }
  return { segments, total: offset };
}

/** bit i of word i>>5 says whether element i decays; padding never does */
export function decayMask(layout: FlatLayout): Uint32Array {
  const mask = new Uint32Array(Math.max(1, Math.ceil(layout.total / 32)));
  for (const s of layout.segments) {
    if (!s.decay) continue;
    for (let i = s.offset; i < s.offset + s.size; i++) mask[i >>> 5] |= 1 << (i & 31);
  }
  return mask;
}

export function decays(mask: Uint32Array, index: number): boolean {
  return ((mask[index >>> 5] >>> (index & 31)) & 1) === 1;
}
