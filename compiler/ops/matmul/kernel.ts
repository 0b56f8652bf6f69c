// Tiled matrix product: a 64x64 output tile per workgroup of 16x16 invocations, each holding a
// 4x4 block of accumulators; operand tiles of depth 16 are staged in workgroup memory.
// Loads outside the matrix read zero, so no size needs to be a multiple of the tile.

import { rowsOf } from "../../ir/ops.js";
import type { KernelTemplate } from "../../codegen/template.js";
import { MAX_WORKGROUPS_PER_DIMENSION, ceilDiv, u32Constants } from "../../codegen/wgsl.js";

const TILE_M = 64;
const TILE_N = 64;
const TILE_K = 16;
const THREADS_PER_SIDE = 16;
const BLOCK = TILE_M / THREADS_PER_SIDE; // accumulators per invocation along each side

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

export const matmulTemplate: KernelTemplate = {
  operandNames: () => ["a", "b"],
  render(ctx) {
    const { graph, node } = ctx;
    const sizes = matmulSizes(
      graph.nodes[node.inputs[0]].type.shape,
      graph.nodes[node.inputs[1]].type.shape,
      node.attrs.ta === true,
      node.attrs.tb === true,
    );
    const a = ctx.operand(0);
    const b = ctx.operand(1);
    // stored layouts: a is [M,K] (or [K,M] when ta), b is [K,N] (or [N,K] when tb)
    const aIndex = sizes.ta ? "k * M + i" : "i * K + k";
    const bIndex = sizes.tb ? "j * K + k" : "k * N + j";
    const code = `${u32Constants({ M: sizes.m, N: sizes.n, K: sizes.k, TILE_M, TILE_N, TILE_K, THREADS: THREADS_PER_SIDE * THREADS_PER_SIDE, BLOCK })}

var<workgroup> a_tile: array<f32, ${TILE_M * TILE_K}>; // [row][k]
var<workgroup> b_tile: array<f32, ${TILE_K * TILE_N}>; // [k][col]

fn load_a(i: u32, k: u32) -> f32 {
  if (i >= M || k >= K) { return 0.0; }
  return ${a}[${aIndex}];
}

fn load_b(k: u32, j: u32) -> f32 {
  if (k >= K || j >= N) { return 0.0; }
  return ${b}[${bIndex}];
}

@compute @workgroup_size(${THREADS_PER_SIDE}, ${THREADS_PER_SIDE})
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row0 = workgroup.y * TILE_M;
  let col0 = workgroup.x * TILE_N;
  var acc: array<f32, ${BLOCK * BLOCK}>;
  for (var k0 = 0u; k0 < K; k0 = k0 + TILE_K) {
    for (var e = lane; e < TILE_M * TILE_K; e = e + THREADS) {
      a_tile[e] = load_a(row0 + e / TILE_K, k0 + e % TILE_K);
    }
    for (var e = lane; e < TILE_K * TILE_N; e = e + THREADS) {
      b_tile[e] = load_b(k0 + e / TILE_N, col0 + e % TILE_N);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk = kk + 1u) {
      var a_column: array<f32, ${BLOCK}>;
      for (var r = 0u; r < BLOCK; r = r + 1u) {
        // rows strided by 16 so neighbouring invocations read neighbouring words
        a_column[r] = a_tile[(local.y + r * ${THREADS_PER_SIDE}u) * TILE_K + kk];
      }
      for (var c = 0u; c < BLOCK; c = c + 1u) {
        let b_value = b_tile[kk * TILE_N + local.x + c * ${THREADS_PER_SIDE}u];
        for (var r = 0u; r < BLOCK; r = r + 1u) {
          acc[r * BLOCK + c] = acc[r * BLOCK + c] + a_column[r] * b_value;
        }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < BLOCK; r = r + 1u) {
    let i = row0 + local.y + r * ${THREADS_PER_SIDE}u;
    for (var c = 0u; c < BLOCK; c = c + 1u) {
      let j = col0 + local.x + c * ${THREADS_PER_SIDE}u;
      if (i < M && j < N) {
        let at = i * N + j;
        ${ctx.output}[at] = ${ctx.finish("at", "acc[r * BLOCK + c]")};
      }
    }
  }
}`;
    const workgroups: [number, number, number] = [ceilDiv(sizes.n, TILE_N), ceilDiv(sizes.m, TILE_M), 1];
    if (workgroups[0] > MAX_WORKGROUPS_PER_DIMENSION || workgroups[1] > MAX_WORKGROUPS_PER_DIMENSION)
      throw new Error(
        `matmul ${node.scope}: ${sizes.m}x${sizes.n} needs more than ${MAX_WORKGROUPS_PER_DIMENSION} tiles along one side`,
      );
    return { code, workgroups };
  },
};
