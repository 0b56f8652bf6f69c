// Causal attention backward without stored softmax statistics: each kernel recomputes the row
// max and normaliser of every query row it touches from q and k (the flash-attention trade of
// recomputation for memory). dq: one invocation per (b, t, head). dk/dv: see below.

import type { Node } from "../../ir/ir.js";
import type { KernelTemplate, TemplateContext } from "../../codegen/template.js";
import {
  f32Literal,
  LINEAR_WORKGROUP,
  SPREAD_BUILTINS,
  spreadWorkgroups,
  u32Constants,
} from "../../codegen/wgsl.js";
import { perItem } from "../../codegen/kernels/backward/common.js";

const NAMES = ["q", "k", "v", "o", "dy"];

function constants(node: Node) {
  const heads = node.attrs.heads as number;
  const kvHeads = node.attrs.kv_heads as number;
  const headDim = node.attrs.head_dim as number;
  return {
    HEADS: heads,
    KV_HEADS: kvHeads,
    HEAD_DIM: headDim,
    GROUP: heads / kvHeads,
    Q_WIDTH: heads * headDim,
    KV_WIDTH: kvHeads * headDim,
  };
}

/** helpers over flat offsets: q·k score, dy·v, dy·o, and the (max, normaliser) of one query row */
function helpers(ctx: TemplateContext): string {
  const [q, k, v, o, dy] = NAMES.map((_, i) => ctx.operand(i));
  const scale = f32Literal(1 / Math.sqrt(ctx.node.attrs.head_dim as number));
  return `const SCALE: f32 = ${scale};

fn score(q_at: u32, k_at: u32) -> f32 {
  var sum = 0.0;
  for (var j = 0u; j < HEAD_DIM; j++) { sum += ${q}[q_at + j] * ${k}[k_at + j]; }
  return sum * SCALE;
}

fn dy_dot_v(dy_at: u32, v_at: u32) -> f32 {
  var sum = 0.0;
  for (var j = 0u; j < HEAD_DIM; j++) { sum += ${dy}[dy_at + j] * ${v}[v_at + j]; }
  return sum;
}

fn dy_dot_o(at: u32) -> f32 {
  var sum = 0.0;
  for (var j = 0u; j < HEAD_DIM; j++) { sum += ${dy}[at + j] * ${o}[at + j]; }
  return sum;
}

// online max/normaliser over keys 0..t of the row whose q starts at q_at; key 0 of the sequence at k_base
fn row_stats(q_at: u32, k_base: u32, t: u32) -> vec2f {
  var m = -3.0e38;
  var l = 0.0;
  for (var s = 0u; s <= t; s++) {
    let x = score(q_at, k_base + s * KV_WIDTH);
    let next = max(m, x);
    l = l * exp(m - next) + exp(x - next);
    m = next;
  }
  return vec2f(m, l);
}`;
}

export const attentionGradQTemplate: KernelTemplate = {
  operandNames: () => NAMES,
  render(ctx) {
    const [batch, seq] = ctx.node.type.shape;
    const k = ctx.operand(1);
    const body = `  let h = item % HEADS;
  let bt = item / HEADS;
  let t = bt % SEQ;
  let kv_base = (bt - t) * KV_WIDTH + (h / GROUP) * HEAD_DIM;
  let q_at = bt * Q_WIDTH + h * HEAD_DIM;
  let stats = row_stats(q_at, kv_base, t);
  let row_term = dy_dot_o(q_at);
  var acc: array<f32, HEAD_DIM>;
  for (var s = 0u; s <= t; s++) {
    let k_at = kv_base + s * KV_WIDTH;
    let p = exp(score(q_at, k_at) - stats.x) / stats.y;
    let ds = p * (dy_dot_v(q_at, k_at) - row_term);
    for (var j = 0u; j < HEAD_DIM; j++) { acc[j] += ds * ${k}[k_at + j]; }
  }
  for (var j = 0u; j < HEAD_DIM; j++) {
    let at = q_at + j;
    ${ctx.output}[at] = ${ctx.finish("at", "SCALE * acc[j]")};
  }`;
    return perItem(
      batch * seq * (ctx.node.attrs.heads as number),
      { ...constants(ctx.node), SEQ: seq },
      helpers(ctx),
      body,
    );
  },
};

// dk/dv: one workgroup per TILE consecutive keys of one (batch, kv head) sequence, one key per
// lane. The query rows t >= s are walked a tile at a time; each tile's row statistics (max,
// normaliser, dy·o) are computed once per workgroup into workgroup memory, one row per lane, and
// shared by every key, so the recomputation costs O(T² hd) per workgroup rather than per key.
const TILE = 64;

export const attentionGradKvTemplate: KernelTemplate = {
  operandNames: () => NAMES,
  render(ctx) {
    const [, batch, seq, kvWidth] = ctx.node.type.shape;
    const [q, dy] = [ctx.operand(0), ctx.operand(4)];
    const chunks = Math.ceil(seq / TILE);
    const workgroups = batch * (ctx.node.attrs.kv_heads as number) * chunks;
    const code = `${u32Constants({ ...constants(ctx.node), SEQ: seq, HALF: batch * seq * kvWidth, TILE, CHUNKS: chunks, WORKGROUPS: workgroups })}
${helpers(ctx)}

var<workgroup> tile_max: array<f32, TILE>;
var<workgroup> tile_norm: array<f32, TILE>;
var<workgroup> tile_dy_o: array<f32, TILE>;

@compute @workgroup_size(TILE)
fn main(${SPREAD_BUILTINS}) {
  let wg = ${LINEAR_WORKGROUP};
  if (wg >= WORKGROUPS) { return; }
  let chunk = wg % CHUNKS;
  let kh = (wg / CHUNKS) % KV_HEADS;
  let b = wg / (CHUNKS * KV_HEADS);
  let s = chunk * TILE + lane;
  let owns_key = s < SEQ;
  let kv_base = b * SEQ * KV_WIDTH + kh * HEAD_DIM;
  let k_at = kv_base + min(s, SEQ - 1u) * KV_WIDTH;
  var dk: array<f32, HEAD_DIM>;
  var dv: array<f32, HEAD_DIM>;
  for (var g = 0u; g < GROUP; g++) {
    let h = kh * GROUP + g;
    for (var first = chunk * TILE; first < SEQ; first += TILE) {
      let row = first + lane;
      if (row < SEQ) {
        let q_at = (b * SEQ + row) * Q_WIDTH + h * HEAD_DIM;
        let stats = row_stats(q_at, kv_base, row);
        tile_max[lane] = stats.x;
        tile_norm[lane] = stats.y;
        tile_dy_o[lane] = dy_dot_o(q_at);
      }
      workgroupBarrier();
      if (owns_key) {
        for (var i = 0u; i < TILE; i++) {
          let t = first + i;
          if (t >= SEQ) { break; }
          if (t < s) { continue; }
          let q_at = (b * SEQ + t) * Q_WIDTH + h * HEAD_DIM;
          let p = exp(score(q_at, k_at) - tile_max[i]) / tile_norm[i];
          let ds = p * (dy_dot_v(q_at, k_at) - tile_dy_o[i]);
          for (var j = 0u; j < HEAD_DIM; j++) {
            dk[j] += ds * ${q}[q_at + j];
            dv[j] += p * ${dy}[q_at + j];
          }
        }
      }
      workgroupBarrier();
    }
  }
  if (!owns_key) { return; }
  for (var j = 0u; j < HEAD_DIM; j++) {
    let dk_at = k_at + j;
    let dv_at = HALF + k_at + j;
    ${ctx.output}[dk_at] = ${ctx.finish("dk_at", "SCALE * dk[j]")};
    ${ctx.output}[dv_at] = ${ctx.finish("dv_at", "dv[j]")};
  }
}`;
    return { code, workgroups: spreadWorkgroups(workgroups) };
  },
};
