// Causal attention backward without stored softmax statistics: each kernel recomputes the row
// max and normaliser of every query row it touches from q and k (the flash-attention trade of
// recomputation for memory). dq: one invocation per (b, t, head). dk/dv: one invocation per
// (b, s, kv head), walking the later query rows t >= s of every head in its group.

import type { Node } from "../../../ir/ir.js";
import type { KernelTemplate, TemplateContext } from "../../template.js";
import { f32Literal } from "../../wgsl.js";
import { perItem } from "./common.js";

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

export const attentionGradKvTemplate: KernelTemplate = {
  operandNames: () => NAMES,
  render(ctx) {
    const [, batch, seq, kvWidth] = ctx.node.type.shape;
    const [q, dy] = [ctx.operand(0), ctx.operand(4)];
    const body = `  let kh = item % KV_HEADS;
  let bs = item / KV_HEADS;
  let s = bs % SEQ;
  let kv_base = (bs - s) * KV_WIDTH + kh * HEAD_DIM;
  let k_at = bs * KV_WIDTH + kh * HEAD_DIM;
  var dk: array<f32, HEAD_DIM>;
  var dv: array<f32, HEAD_DIM>;
  for (var g = 0u; g < GROUP; g++) {
    let h = kh * GROUP + g;
    for (var t = s; t < SEQ; t++) {
      let q_at = (bs - s + t) * Q_WIDTH + h * HEAD_DIM;
      let stats = row_stats(q_at, kv_base, t);
      let p = exp(score(q_at, k_at) - stats.x) / stats.y;
      let ds = p * (dy_dot_v(q_at, k_at) - dy_dot_o(q_at));
      for (var j = 0u; j < HEAD_DIM; j++) {
        dk[j] += ds * ${q}[q_at + j];
        dv[j] += p * ${dy}[q_at + j];
      }
    }
  }
  for (var j = 0u; j < HEAD_DIM; j++) {
    let dk_at = k_at + j;
    let dv_at = HALF + k_at + j;
    ${ctx.output}[dk_at] = ${ctx.finish("dk_at", "SCALE * dk[j]")};
    ${ctx.output}[dv_at] = ${ctx.finish("dv_at", "dv[j]")};
  }`;
    return perItem(
      batch * seq * (ctx.node.attrs.kv_heads as number),
      { ...constants(ctx.node), SEQ: seq, HALF: batch * seq * kvWidth },
      helpers(ctx),
      body,
    );
  },
};
