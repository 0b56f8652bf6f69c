// Causal attention, flash style: a workgroup takes a block of queries of one (batch, head); each
// invocation owns one query and keeps a running max, running sum and output accumulator (online
// softmax) while key/value tiles stream through workgroup memory. No T x T matrix is ever stored.
// The number of keys per tile is the variant (variants.ts).

import type { KernelTemplate } from "../../codegen/template.js";
import { f32Literal, u32Constants } from "../../codegen/wgsl.js";
import { ATTENTION_DEFAULT, attentionTiling, attentionVariants, type AttentionVariant } from "./variants.js";

export const attentionTemplate: KernelTemplate = {
  operandNames: () => ["q", "k", "v"],
  render(ctx) {
    const { node } = ctx;
    const [batch, seq] = node.type.shape;
    const heads = node.attrs.heads as number;
    const kvHeads = node.attrs.kv_heads as number;
    const headDim = node.attrs.head_dim as number;
    const variant = (ctx.variant ?? ATTENTION_DEFAULT) as AttentionVariant;
    const { queryBlock, keyTile } = attentionTiling(seq, headDim, variant);
    const [q, k, v] = [ctx.operand(0), ctx.operand(1), ctx.operand(2)];
    const code = `${u32Constants({ SEQ: seq, HEADS: heads, KV_HEADS: kvHeads, HEAD_DIM: headDim, GROUP: heads / kvHeads, QUERY_BLOCK: queryBlock, KEY_TILE: keyTile })}
const SCALE: f32 = ${f32Literal(1 / Math.sqrt(headDim))};
const NO_SCORE_YET: f32 = -3.0e38;

var<workgroup> k_tile: array<f32, ${keyTile * headDim}>;
var<workgroup> v_tile: array<f32, ${keyTile * headDim}>;

@compute @workgroup_size(QUERY_BLOCK)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_index) lane: u32) {
  let b = workgroup.z;
  let head = workgroup.y;
  let kv_head = head / GROUP; // grouped-query attention: GROUP query heads share one kv head
  let block_start = workgroup.x * QUERY_BLOCK;
  let t = block_start + lane;
  let in_range = t < SEQ;
  let q_base = ((b * SEQ + t) * HEADS + head) * HEAD_DIM;

  var query: array<f32, HEAD_DIM>;
  var acc: array<f32, HEAD_DIM>;
  if (in_range) {
    for (var j = 0u; j < HEAD_DIM; j = j + 1u) { query[j] = ${q}[q_base + j] * SCALE; }
  }
  var running_max = NO_SCORE_YET;
  var running_sum = 0.0;

  // causal: no query of this block looks past its last position
  let keys_end = min(block_start + QUERY_BLOCK, SEQ);
  for (var s0 = 0u; s0 < keys_end; s0 = s0 + KEY_TILE) {
    workgroupBarrier();
    for (var e = lane; e < KEY_TILE * HEAD_DIM; e = e + QUERY_BLOCK) {
      let s = s0 + e / HEAD_DIM;
      var key = 0.0;
      var value = 0.0;
      if (s < SEQ) {
        let at = ((b * SEQ + s) * KV_HEADS + kv_head) * HEAD_DIM + e % HEAD_DIM;
        key = ${k}[at];
        value = ${v}[at];
      }
      k_tile[e] = key;
      v_tile[e] = value;
    }
    workgroupBarrier();
    if (in_range && t >= s0) {
      let visible = min(KEY_TILE, t + 1u - s0);
      for (var s = 0u; s < visible; s = s + 1u) {
        var score = 0.0;
        for (var j = 0u; j < HEAD_DIM; j = j + 1u) { score = score + query[j] * k_tile[s * HEAD_DIM + j]; }
        let new_max = max(running_max, score);
        let correction = exp(running_max - new_max);
        let weight = exp(score - new_max);
        running_sum = running_sum * correction + weight;
        for (var j = 0u; j < HEAD_DIM; j = j + 1u) {
          acc[j] = acc[j] * correction + weight * v_tile[s * HEAD_DIM + j];
        }
        running_max = new_max;
      }
    }
  }
  if (in_range) {
    for (var j = 0u; j < HEAD_DIM; j = j + 1u) {
      let at = q_base + j;
      ${ctx.output}[at] = ${ctx.finish("at", "acc[j] / running_sum")};
    }
  }
}`;
    return { code, workgroups: [Math.ceil(seq / queryBlock), heads, batch] };
  },
  variants: attentionVariants,
};
