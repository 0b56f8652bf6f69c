// The matmul variant for products with few rows: decoding multiplies one token per sequence (M =
// the batch, often 1) by every weight matrix, where a 64x64 output tile would leave 63 of its 64
// rows empty and a wide matrix would get only N / 64 workgroups. Here a workgroup of 64 x 4
// invocations takes 4 rows and 64 columns: each invocation owns one column and one quarter of the
// depth (k = slice, slice + 4, ...), keeps the 4 rows' sums in registers, and the quarters are added
// in workgroup memory. Each b element is read once per 4 rows, coalesced along the columns (when b is
// not transposed); the a values are the same for all 64 columns, a broadcast.

import type { TemplateContext } from "../../codegen/template.js";
import { MAX_WORKGROUPS_PER_DIMENSION, ceilDiv, u32Constants } from "../../codegen/wgsl.js";
import { loader } from "./tile-loads.js";
import { nodeSizes } from "./variants.js";
import { gainScale, normPrologue, productOperandIndices } from "./prologue.js";

const ROWS = 4;
const COLUMNS = 64;
const SLICES = 4;

export function renderThinMatmul(ctx: TemplateContext) {
  const { graph, node } = ctx;
  const sizes = nodeSizes(node, graph);
  const aIndex = sizes.ta ? "k * M + i" : "i * K + k";
  const bIndex = sizes.tb ? "j * K + k" : "k * N + j";
  const norm = node.op === "rmsnorm_matmul";
  const operands = productOperandIndices(node.op);
  const code = `${u32Constants({ M: sizes.m, N: sizes.n, K: sizes.k, ROWS, COLUMNS, SLICES })}

var<workgroup> partial: array<f32, ${SLICES * ROWS * COLUMNS}>; // [slice][row][column]${
    norm
      ? `
var<workgroup> row_squares: array<f32, ${SLICES * ROWS}>; // [slice][row]: sums of x^2`
      : ""
  }

${loader("load_a", ["i", "k"], ["M", "K"], ctx.operand(operands.a), aIndex, false)}

${loader("load_b", ["k", "j"], ["K", "N"], ctx.operand(operands.b), bIndex, false, norm ? gainScale(sizes.tb) : undefined)}
${
  norm
    ? `
${normPrologue(ctx)}
`
    : ""
}
@compute @workgroup_size(${COLUMNS}, ${SLICES})
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let j = workgroup.x * COLUMNS + local.x;
  let row0 = workgroup.y * ROWS;
  let slice = local.y;
${
  norm
    ? `  var acc: array<f32, ROWS>;
  var squares: array<f32, ROWS>;
  for (var k = slice; k < K; k = k + SLICES) {
    let b_value = load_b(k, j); // the gain's already in
    for (var r = 0u; r < ROWS; r = r + 1u) {
      let a_value = load_a(row0 + r, k);
      squares[r] = squares[r] + a_value * a_value;
      acc[r] = acc[r] + a_value * b_value;
    }
  }
  for (var r = 0u; r < ROWS; r = r + 1u) { partial[(slice * ROWS + r) * COLUMNS + local.x] = acc[r]; }
  // every column of a slice summed the same squares: one of them records them
  if (local.x == 0u) {
    for (var r = 0u; r < ROWS; r = r + 1u) { row_squares[slice * ROWS + r] = squares[r]; }
  }
  workgroupBarrier();`
    : `  var acc: array<f32, ROWS>;
  for (var k = slice; k < K; k = k + SLICES) {
    let b_value = load_b(k, j);
    for (var r = 0u; r < ROWS; r = r + 1u) { acc[r] = acc[r] + load_a(row0 + r, k) * b_value; }
  }
  for (var r = 0u; r < ROWS; r = r + 1u) { partial[(slice * ROWS + r) * COLUMNS + local.x] = acc[r]; }
  workgroupBarrier();`
}
  if (slice == 0u && j < N) {
    for (var r = 0u; r < ROWS; r = r + 1u) {
      let i = row0 + r;
      if (i < M) {
        var total = 0.0;
        for (var s = 0u; s < SLICES; s = s + 1u) { total = total + partial[(s * ROWS + r) * COLUMNS + local.x]; }${
          norm
            ? `
        var row_sum = 0.0;
        for (var s = 0u; s < SLICES; s = s + 1u) { row_sum = row_sum + row_squares[s * ROWS + r]; }
        total = total * inverseSqrt(row_sum / f32(K) + EPS);`
            : ""
        }
        let at = i * N + j;
        ${ctx.output}[at] = ${ctx.finish("at", "total")};
      }
    }
  }
}`;
  const workgroups: [number, number, number] = [ceilDiv(sizes.n, COLUMNS), ceilDiv(sizes.m, ROWS), 1];
  if (workgroups[0] > MAX_WORKGROUPS_PER_DIMENSION || workgroups[1] > MAX_WORKGROUPS_PER_DIMENSION)
    throw new Error(
      `matmul ${node.scope}: ${sizes.m}x${sizes.n} needs more than ${MAX_WORKGROUPS_PER_DIMENSION} tiles along one side`,
    );
  return { code, workgroups };
}
