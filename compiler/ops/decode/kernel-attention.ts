// Attention of one decoded position over the cache: a workgroup per (head, sequence). The keys
// stream through in chunks of one key per invocation; the workgroup keeps a running max and sum
// (online softmax) and each invocation accumulates its share of the head's output dimensions, so
// the cost is one pass over positions 0..p whatever the context.

import type { KernelTemplate } from "../../codegen/template.js";
import { ceilDiv, f32Literal, u32Constants } from "../../codegen/wgsl.js";

const WORKGROUP_SIZE = 64;

export const cachedAttentionTemplate: KernelTemplate = {
  operandNames: () => ["q", "k", "v", "k_cache", "v_cache", "position"],
  render(ctx) {
    const { node, graph } = ctx;
    const batch = node.type.shape[0];
    const heads = node.attrs.heads as number;
    const kvHeads = node.attrs.kv_heads as number;
    const headDim = node.attrs.head_dim as number;
    const context = graph.nodes[node.inputs[3]].type.shape[0];
    const [q, k, v, kCache, vCache, position] = [0, 1, 2, 3, 4, 5].map((i) => ctx.operand(i));
    const code = `${u32Constants({ WORKGROUP_SIZE, CONTEXT: context, BATCH: batch, HEADS: heads, GROUP: heads / kvHeads, HEAD_DIM: headDim, KV_WIDTH: kvHeads * headDim, PER_LANE: ceilDiv(headDim, WORKGROUP_SIZE) })}
const SCALE: f32 = ${f32Literal(1 / Math.sqrt(headDim))};
const NO_SCORE: f32 = -3.0e38;

var<workgroup> decoded_position: u32;
var<workgroup> query: array<f32, HEAD_DIM>;
var<workgroup> weights: array<f32, WORKGROUP_SIZE>;
var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

// position s's key (value) element j of kv head g in sequence b: the cache below p, the operand at p
fn key_at(b: u32, s: u32, p: u32, g: u32, j: u32) -> f32 {
  if (s < p) { return ${kCache}[(s * BATCH + b) * KV_WIDTH + g * HEAD_DIM + j]; }
  return ${k}[b * KV_WIDTH + g * HEAD_DIM + j];
}

fn value_at(b: u32, s: u32, p: u32, g: u32, j: u32) -> f32 {
  if (s < p) { return ${vCache}[(s * BATCH + b) * KV_WIDTH + g * HEAD_DIM + j]; }
  return ${v}[b * KV_WIDTH + g * HEAD_DIM + j];
}

// tree reductions over the workgroup; every invocation calls them and receives the result
fn workgroup_max(value: f32, lane: u32) -> f32 {
  partial[lane] = value;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
    if (lane < stride) { partial[lane] = max(partial[lane], partial[lane + stride]); }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier();
  return result;
}

fn workgroup_sum(value: f32, lane: u32) -> f32 {
  partial[lane] = value;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
    if (lane < stride) { partial[lane] = partial[lane] + partial[lane + stride]; }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier();
  return result;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(local_invocation_index) lane: u32) {
  let head = workgroup.x;
  let b = workgroup.y;
  let g = head / GROUP; // grouped-query attention: GROUP query heads share one kv head
  if (lane == 0u) { decoded_position = min(u32(max(${position}[0], 0)), CONTEXT - 1u); }
  // a uniform position, so the loop below (which holds barriers) runs alike in every invocation
  let p = workgroupUniformLoad(&decoded_position);
  let q_base = (b * HEADS + head) * HEAD_DIM;
  for (var j = lane; j < HEAD_DIM; j = j + WORKGROUP_SIZE) { query[j] = ${q}[q_base + j] * SCALE; }
  workgroupBarrier();

  var acc: array<f32, PER_LANE>;
  var running_max = NO_SCORE;
  var running_sum = 0.0;
  for (var s0 = 0u; s0 <= p; s0 = s0 + WORKGROUP_SIZE) {
    let s = s0 + lane;
    var score = NO_SCORE;
    if (s <= p) {
      var dot = 0.0;
      for (var j = 0u; j < HEAD_DIM; j = j + 1u) { dot = dot + query[j] * key_at(b, s, p, g, j); }
      score = dot;
    }
    let new_max = max(running_max, workgroup_max(score, lane));
    var weight = 0.0;
    if (s <= p) { weight = exp(score - new_max); }
    weights[lane] = weight;
    let correction = exp(running_max - new_max);
    running_sum = running_sum * correction + workgroup_sum(weight, lane);
    let count = min(WORKGROUP_SIZE, p + 1u - s0);
    for (var r = 0u; r < PER_LANE; r = r + 1u) {
      let j = lane + r * WORKGROUP_SIZE;
      if (j < HEAD_DIM) {
        var total = acc[r] * correction;
        for (var c = 0u; c < count; c = c + 1u) { total = total + weights[c] * value_at(b, s0 + c, p, g, j); }
        acc[r] = total;
      }
    }
    running_max = new_max;
    workgroupBarrier(); // every invocation has read this chunk's weights
  }
  for (var r = 0u; r < PER_LANE; r = r + 1u) {
    let j = lane + r * WORKGROUP_SIZE;
    if (j < HEAD_DIM) {
      let at = q_base + j;
      ${ctx.output}[at] = ${ctx.finish("at", "acc[r] / running_sum")};
    }
  }
}`;
    return { code, workgroups: [heads, batch, 1] };
  },
};
