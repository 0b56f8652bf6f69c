// The matmul kernel's variants: output tile and register block, 4-wide loads, double-buffered
// operand tiles. Every variant keeps 16x16 invocations and tiles of depth 16 and computes any
// M, N, K and transpose (loads outside the matrix read zero); they differ in how work and loads
// are spread, which suits different devices and shapes. Every variant stays within WebGPU's
// default 16 KiB of workgroup memory, so a program tuned on one adapter runs on any.

import type { Graph, Node } from "../../ir/ir.js";
import type { KernelVariants } from "../../codegen/template.js";
import { matmulSizes, type MatmulSizes } from "./sizes.js";
import { productOperands } from "./definition.js";

export interface MatmulTiling {
  /** output rows and columns per workgroup */
  tileM: number;
  tileN: number;
  /** accumulators per invocation along rows and columns (the register block) */
  blockM: number;
  blockN: number;
  /** operands whose contiguous dimension is a multiple of 4 are read 4 floats at a time */
  vec4: boolean;
  /** two tiles of each operand: the next slice of depth loads while the current one is used */
  doubleBuffer: boolean;
}

const tiling = (tileM: number, tileN: number, extra: Partial<MatmulTiling> = {}): MatmulTiling => ({
  tileM,
  tileN,
  blockM: tileM / 16,
  blockN: tileN / 16,
  vec4: false,
  doubleBuffer: false,
  ...extra,
});

export const MATMUL_TILINGS = {
  // the default: a 4x4 block per invocation, 16 KiB of tiles
  "64x64": tiling(64, 64),
  // four times the workgroups: keeps a device busy on small or thin products
  "32x32": tiling(32, 32),
  // an 8x4 (4x8) block: more reuse of each loaded value, half the workgroups
  "128x64": tiling(128, 64),
  "64x128": tiling(64, 128),
  "64x64-vec4": tiling(64, 64, { vec4: true }),
  // one barrier per slice of depth instead of two
  "64x64-double": tiling(64, 64, { doubleBuffer: true }),
} satisfies Record<string, MatmulTiling>;

export type MatmulVariant = keyof typeof MATMUL_TILINGS;
export const MATMUL_DEFAULT: MatmulVariant = "64x64";

/**
 * products with few rows (kernel-thin.ts): 4 rows x 64 columns per workgroup, the depth split in
 * four. The default up to THIN_ROWS rows, which is decoding (one token per sequence); offered up to
 * 64 rows, where tiles of 64 rows are at least half empty.
 */
export const THIN_VARIANT = "rows4";
const THIN_ROWS = 16;
const THIN_OFFERED_ROWS = 64;

/** M, N, K and transposes of a matmul or an rmsnorm_matmul node */
export function nodeSizes(node: Node, graph: Graph): MatmulSizes {
  const { a, b } = productOperands(node);
  return matmulSizes(
    graph.nodes[a].type.shape,
    graph.nodes[b].type.shape,
    node.attrs.ta === true,
    node.attrs.tb === true,
  );
}

/** whether each operand's contiguous dimension (in its stored layout) is a multiple of 4 */
export function vec4Alignment(sizes: MatmulSizes): { a: boolean; b: boolean } {
  return {
    a: (sizes.ta ? sizes.m : sizes.k) % 4 === 0,
    b: (sizes.tb ? sizes.k : sizes.n) % 4 === 0,
  };
}

function sizeBucket(letter: string, n: number): string {
  if (n >= 1024) return `${letter}>=1024`;
  if (n >= 128) return `${letter}>=128`;
  return `${letter}<128`;
}

/** rows of a decoding step (one token per sequence) get a class of their own */
function rowBucket(m: number): string {
  return m <= THIN_ROWS ? `m<=${THIN_ROWS}` : sizeBucket("m", m);
}

export const matmulVariants: KernelVariants = {
  names: [...Object.keys(MATMUL_TILINGS), THIN_VARIANT],
  shapeClass(node, graph) {
    const sizes = nodeSizes(node, graph);
    const aligned = vec4Alignment(sizes);
    return [
      rowBucket(sizes.m),
      sizeBucket("n", sizes.n),
      sizeBucket("k", sizes.k),
      ...(sizes.ta ? ["ta"] : []),
      ...(sizes.tb ? ["tb"] : []),
      ...(aligned.a && aligned.b ? ["v4"] : aligned.a ? ["a4"] : aligned.b ? ["b4"] : []),
    ].join(",");
  },
  offered(node, graph) {
    const sizes = nodeSizes(node, graph);
    const aligned = vec4Alignment(sizes);
    return [
      ...Object.entries(MATMUL_TILINGS)
        .filter(([, t]) => !t.vec4 || aligned.a || aligned.b)
        .map(([name]) => name),
      ...(sizes.m <= THIN_OFFERED_ROWS ? [THIN_VARIANT] : []),
    ];
  },
  defaultVariant: (node, graph) => (nodeSizes(node, graph).m <= THIN_ROWS ? THIN_VARIANT : MATMUL_DEFAULT),
};
