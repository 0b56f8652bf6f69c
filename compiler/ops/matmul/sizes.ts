// A matmul node's M, N, K and transposes, from its operands' shapes (see definition.ts).

import { rowsOf } from "../../ir/ops.js";

export interface MatmulSizes {
  m: number;
  n: number;
  k: number;
  ta: boolean;
  tb: boolean;
}

export function matmulSizes(
  aShape: readonly number[],
  bShape: readonly number[],
  ta: boolean,
  tb: boolean,
): MatmulSizes {
  const aRows = rowsOf(aShape);
  const aCols = aShape[aShape.length - 1];
  const bRows = rowsOf(bShape);
  const bCols = bShape[bShape.length - 1];
  return { m: ta ? aCols : aRows, k: ta ? aRows : aCols, n: tb ? bRows : bCols, ta, tb };
}
