// Tiled matrix product: a tile of the output per workgroup of 16x16 invocations, each holding a
// block of accumulators; operand tiles of depth 16 are staged in workgroup memory. The tile and
// block sizes, 4-wide loads and double buffering are the variants (variants.ts); the default is a
// 64x64 tile with a 4x4 block. Loads outside the matrix read zero, so no size needs to be a
// multiple of the tile.

import type { KernelTemplate, TemplateContext } from "../../codegen/template.js";
import { MAX_WORKGROUPS_PER_DIMENSION, ceilDiv, u32Constants } from "../../codegen/wgsl.js";
import { gainScale, normPrologue, productOperandIndices } from "./prologue.js";
import { fillTile, loader, type TileShape } from "./tile-loads.js";
import { MATMUL_DEFAULT, MATMUL_TILINGS, matmulVariants, nodeSizes, vec4Alignment } from "./variants.js";
import type { MatmulTiling, MatmulVariant } from "./variants.js";
import { THIN_VARIANT } from "./variants.js";
import { renderThinMatmul } from "./kernel-thin.js";

const TILE_K = 16;
const THREADS_PER_SIDE = 16;

/** the names the code uses for the block extents: one BLOCK when the block is square */
function blockNames(t: MatmulTiling): { rows: string; cols: string } {
  return t.blockM === t.blockN ? { rows: "BLOCK", cols: "BLOCK" } : { rows: "BLOCK_M", cols: "BLOCK_N" };
}

/**
 * one slice of depth: every invocation adds its block's products over TILE_K. With a norm
 * prologue (rmsnorm_matmul; the gain already scales b's tile), each row's sum of squares of a is
 * gathered from the values the products read anyway
 */
function multiplySlice(t: MatmulTiling, aBase: string, bBase: string, norm: boolean): string {
  const { rows, cols } = blockNames(t);
  const side = `${THREADS_PER_SIDE}u`;
  return `    for (var kk = 0u; kk < TILE_K; kk = kk + 1u) {
      var a_column: array<f32, ${t.blockM}>;
      for (var r = 0u; r < ${rows}; r = r + 1u) {
        // rows strided by 16 so neighbouring invocations read neighbouring words
        a_column[r] = a_tile[${aBase}(local.y + r * ${side}) * TILE_K + kk];${
          norm
            ? `
        squares[r] = squares[r] + a_column[r] * a_column[r];`
            : ""
        }
      }
      for (var c = 0u; c < ${cols}; c = c + 1u) {
        let b_value = b_tile[${bBase}kk * TILE_N + local.x + c * ${side}];
        for (var r = 0u; r < ${rows}; r = r + 1u) {
          acc[r * ${cols} + c] = acc[r * ${cols} + c] + a_column[r] * b_value;
        }
      }
    }`;
}

/** the loop over slices of depth: load both tiles, multiply, with two barriers per slice */
function singleBufferedLoop(
  t: MatmulTiling,
  a: TileShape,
  b: TileShape,
  vec: { a: boolean; b: boolean },
  norm: boolean,
) {
  return `  for (var k0 = 0u; k0 < K; k0 = k0 + TILE_K) {
${fillTile(a, vec.a)}
${fillTile(b, vec.b)}
    workgroupBarrier();
${multiplySlice(t, "", "", norm)}
    workgroupBarrier();
  }`;
}

/**
 * two tiles of each operand: slice s + 1 is loaded into one while slice s is read from the other,
 * so one barrier per slice suffices (the tile written next was last read before that barrier)
 */
function doubleBufferedLoop(
  t: MatmulTiling,
  a: TileShape,
  b: TileShape,
  vec: { a: boolean; b: boolean },
  norm: boolean,
) {
  const aSize = t.tileM * TILE_K;
  const bSize = TILE_K * t.tileN;
  return `  let slices = (K + TILE_K - 1u) / TILE_K;
  {
    let k0 = 0u;
${fillTile(a, vec.a)}
${fillTile(b, vec.b)}
  }
  workgroupBarrier();
  for (var s = 0u; s < slices; s = s + 1u) {
    let a_base = s % 2u * ${aSize}u;
    let b_base = s % 2u * ${bSize}u;
    if (s + 1u < slices) {
      let k0 = (s + 1u) * TILE_K;
      let a_next = ${aSize}u - a_base;
      let b_next = ${bSize}u - b_base;
${fillTile(a, vec.a, "a_next + ", "      ")}
${fillTile(b, vec.b, "b_next + ", "      ")}
    }
${multiplySlice(t, "a_base + ", "b_base + ", norm)}
    workgroupBarrier();
  }`;
}

function renderMatmul(ctx: TemplateContext, variant: MatmulVariant) {
  const { graph, node } = ctx;
  const t = MATMUL_TILINGS[variant];
  if (!t) throw new Error(`internal: matmul has no variant ${variant}`);
  const sizes = nodeSizes(node, graph);
  const aligned = vec4Alignment(sizes);
  const norm = node.op === "rmsnorm_matmul";
  const operands = productOperandIndices(node.op);
  // an operand read 4 floats at a time is declared array<vec4f>: it needs a binding of its own
  const vec = {
    a: t.vec4 && aligned.a && ctx.ownBinding?.(operands.a) === true,
    b: t.vec4 && aligned.b && ctx.ownBinding?.(operands.b) === true,
  };
  const a = ctx.operand(operands.a);
  const b = ctx.operand(operands.b);
  // stored layouts: a is [M,K] (or [K,M] when ta), b is [K,N] (or [N,K] when tb)
  const aIndex = sizes.ta ? "k * M + i" : "i * K + k";
  const bIndex = sizes.tb ? "j * K + k" : "k * N + j";
  const aTile: TileShape = {
    tile: "a_tile",
    rows: "TILE_M",
    cols: "TILE_K",
    rowOrigin: "row0",
    colOrigin: "k0",
    rowCount: t.tileM,
    colCount: TILE_K,
    load: "load_a",
    contiguous: sizes.ta ? "rows" : "cols",
  };
  const bTile: TileShape = {
    tile: "b_tile",
    rows: "TILE_K",
    cols: "TILE_N",
    rowOrigin: "k0",
    colOrigin: "col0",
    rowCount: TILE_K,
    colCount: t.tileN,
    load: "load_b",
    contiguous: sizes.tb ? "rows" : "cols",
  };
  const { rows, cols } = blockNames(t);
  const blocks: Record<string, number> =
    rows === "BLOCK" ? { BLOCK: t.blockM } : { BLOCK_M: t.blockM, BLOCK_N: t.blockN };
  const copies = t.doubleBuffer ? 2 : 1;
  const layout = (what: string) => (t.doubleBuffer ? `two tiles of ${what}` : what);
  const side = `${THREADS_PER_SIDE}u`;
  const code = `${u32Constants({ M: sizes.m, N: sizes.n, K: sizes.k, TILE_M: t.tileM, TILE_N: t.tileN, TILE_K, THREADS: THREADS_PER_SIDE * THREADS_PER_SIDE, ...blocks })}

var<workgroup> a_tile: array<f32, ${copies * t.tileM * TILE_K}>; // ${layout("[row][k]")}
var<workgroup> b_tile: array<f32, ${copies * TILE_K * t.tileN}>; // ${layout("[k][col]")}

${loader("load_a", ["i", "k"], ["M", "K"], a, aIndex, vec.a)}

${loader("load_b", ["k", "j"], ["K", "N"], b, bIndex, vec.b, norm ? gainScale(sizes.tb) : undefined)}
${
  norm
    ? `
${normPrologue(ctx)}
`
    : ""
}
@compute @workgroup_size(${THREADS_PER_SIDE}, ${THREADS_PER_SIDE})
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row0 = workgroup.y * TILE_M;
  let col0 = workgroup.x * TILE_N;
  var acc: array<f32, ${t.blockM * t.blockN}>;${
    norm
      ? `
  var squares: array<f32, ${t.blockM}>; // each row's sum of x^2, for its RMS`
      : ""
  }
${t.doubleBuffer ? doubleBufferedLoop(t, aTile, bTile, vec, norm) : singleBufferedLoop(t, aTile, bTile, vec, norm)}
  for (var r = 0u; r < ${rows}; r = r + 1u) {
    let i = row0 + local.y + r * ${side};${
      norm
        ? `
    let inverse_rms = inverseSqrt(squares[r] / f32(K) + EPS);`
        : ""
    }
    for (var c = 0u; c < ${cols}; c = c + 1u) {
      let j = col0 + local.x + c * ${side};
      if (i < M && j < N) {
        let at = i * N + j;
        ${ctx.output}[at] = ${ctx.finish("at", norm ? `acc[r * ${cols} + c] * inverse_rms` : `acc[r * ${cols} + c]`)};
      }
    }
  }
}`;
  const workgroups: [number, number, number] = [ceilDiv(sizes.n, t.tileN), ceilDiv(sizes.m, t.tileM), 1];
  if (workgroups[0] > MAX_WORKGROUPS_PER_DIMENSION || workgroups[1] > MAX_WORKGROUPS_PER_DIMENSION)
    throw new Error(
      `matmul ${node.scope}: ${sizes.m}x${sizes.n} needs more than ${MAX_WORKGROUPS_PER_DIMENSION} tiles along one side`,
    );
  const vec4Operands = [...(vec.a ? [operands.a] : []), ...(vec.b ? [operands.b] : [])];
  return { code, workgroups, ...(vec4Operands.length > 0 ? { vec4Operands } : {}) };
}

export const matmulTemplate: KernelTemplate = {
  operandNames: () => ["a", "b"],
  render: (ctx) =>
    ctx.variant === THIN_VARIANT
      ? renderThinMatmul(ctx)
      : renderMatmul(ctx, (ctx.variant ?? MATMUL_DEFAULT) as MatmulVariant),
  variants: matmulVariants,
};

/** rmsnorm_matmul: the same variants, with the norm folded into the product (normPrologue) */
export const rmsnormMatmulTemplate: KernelTemplate = {
  operandNames: () => ["x", "gain", "w"],
  render: matmulTemplate.render,
  variants: { ...matmulVariants, tunedAs: "matmul" },
};
