// AttnRes backward. Sources are separate operands, so per-source code is unrolled at render time.
// token_grads(p) recomputes one token's depth weights and logit gradients, reading each source
// once; one invocation per token then writes all S source gradients and the token's terms of the
// query and gain gradients from them (the graph sums those over tokens with reduce_leading).

import type { Node } from "../../ir/ir.js";
import { numel } from "../../ir/ir.js";
import type { KernelTemplate, TemplateContext } from "../../codegen/template.js";
import { f32Literal } from "../../codegen/wgsl.js";
import { keepBound, perItem } from "../../codegen/kernels/backward/common.js";
import { sourceReader, stackedReader } from "./sources.js";

interface Layout {
  count: number;
  keyNorm: boolean;
  sigmoid: boolean;
  width: number;
  tokens: number;
  /** elements after which the query repeats: D, H*D (one query per depth-attention head) or all */
  querySize: number;
  gainSize: number;
}

function layoutOf(ctx: TemplateContext): Layout {
  const { node, graph } = ctx;
  const count = node.attrs.sources as number;
  const shape = graph.nodes[node.inputs[0]].type.shape;
  const width = shape[shape.length - 1];
  const queryShape = graph.nodes[node.inputs[count]].type.shape;
  return {
    count,
    keyNorm: node.attrs.key_norm === true,
    sigmoid: node.attrs.score === "sigmoid",
    width,
    tokens: numel(shape) / width,
    querySize: numel(queryShape),
    gainSize: node.attrs.key_norm === true ? numel(graph.nodes[node.inputs[count + 1]].type.shape) : width,
  };
}

function operandNames(node: Node): string[] {
  const count = node.attrs.sources as number;
  const names = Array.from({ length: count }, (_, i) => `source${i}`);
  names.push("query");
  if (node.attrs.key_norm === true) names.push("gain");
  names.push("dy");
  if (node.attrs.accumulate === true) names.push("earlier");
  return names;
}

/** the operand index of dy: after the sources, the query and the gain */
function dyIndex(node: Node): number {
  return (node.attrs.sources as number) + 1 + (node.attrs.key_norm === true ? 1 : 0);
}

/** alpha from `logit` and dl from `dalpha`, over `count` entries, as WGSL statements */
function normaliser(sigmoid: boolean): string {
  if (sigmoid)
    return `  for (var i = 0u; i < count; i++) {
    let a = 1.0 / (1.0 + exp(-g.logit[i]));
    g.alpha[i] = a;
    g.dlogit[i] = dalpha[i] * a * (1.0 - a);
  }`;
  return `  var m = -3.0e38;
  for (var i = 0u; i < count; i++) { m = max(m, g.logit[i]); }
  var total = 0.0;
  for (var i = 0u; i < count; i++) { g.alpha[i] = exp(g.logit[i] - m); total += g.alpha[i]; }
  var mean_dalpha = 0.0;
  for (var i = 0u; i < count; i++) { g.alpha[i] /= total; mean_dalpha += g.alpha[i] * dalpha[i]; }
  for (var i = 0u; i < count; i++) { g.dlogit[i] = g.alpha[i] * (dalpha[i] - mean_dalpha); }`;
}

/**
 * token_grads(p, count): one token's depth weights and logit gradients, reading each source once;
 * arrays hold CAPACITY entries, of which the first `count` are used.
 */
function tokenGradsHelper(ctx: TemplateContext, l: Layout): string {
  const q = ctx.operand(l.count);
  const gain = l.keyNorm ? ctx.operand(l.count + 1) : "";
  const dy = ctx.operand(dyIndex(ctx.node));
  return `const EPS: f32 = ${f32Literal(ctx.node.attrs.eps as number)};

struct TokenGrads {
  alpha: array<f32, CAPACITY>,
  dlogit: array<f32, CAPACITY>,
  r: array<f32, CAPACITY>, // key-norm scale (1 without key norm)
  raw: array<f32, CAPACITY>, // query · (source * gain), before the key-norm scale
  logit: array<f32, CAPACITY>,
}

fn token_grads(p: u32, count: u32) -> TokenGrads {
  let base = p * WIDTH;
  let q_base = base % QUERY_SIZE;
  let g_base = base % GAIN_SIZE;
  var g: TokenGrads;
  var dalpha: array<f32, CAPACITY>;
  for (var i = 0u; i < count; i++) {
    var squares = 0.0;
    var raw = 0.0;
    var da = 0.0;
    for (var j = 0u; j < WIDTH; j++) {
      let v = source_at(i, base + j);
      squares += v * v;
      raw += ${q}[q_base + j] * v${l.keyNorm ? ` * ${gain}[g_base + j]` : ""};
      da += ${dy}[base + j] * v;
    }
    g.r[i] = ${l.keyNorm ? "inverseSqrt(squares / f32(WIDTH) + EPS)" : "1.0"};
    g.raw[i] = raw;
    g.logit[i] = raw * g.r[i];
    dalpha[i] = da;
  }
${normaliser(l.sigmoid)}
  return g;
}`;
}

export const attnresGradSourcesTemplate: KernelTemplate = {
  operandNames,
  render(ctx) {
    const l = layoutOf(ctx);
    const q = ctx.operand(l.count);
    const gain = l.keyNorm ? ctx.operand(l.count + 1) : "";
    const dy = ctx.operand(dyIndex(ctx.node));
    // the gradients of this aggregation's sources summed over the later aggregations (gradient.ts)
    const earlier =
      ctx.node.attrs.accumulate === true ? ` + ${ctx.operand(dyIndex(ctx.node) + 1)}[out_at]` : "";
    const stacked = ctx.stackedSources;
    // stacked sources: their number is the stack binding's length over the stride (plus the
    // partial sum), and the arrays hold the whole stack, so one module serves every layer
    const count = stacked
      ? `arrayLength(&${stacked.stack}) / STRIDE${stacked.extra ? " + 1u" : ""}`
      : "SOURCES";
    const reader = stacked
      ? stackedReader(stacked.stack, stacked.extra)
      : sourceReader(Array.from({ length: l.count }, (_, i) => ctx.operand(i)));
    const gainAt = l.keyNorm ? ` * ${gain}[g_base + j]` : "";
    const keyPath = l.keyNorm
      ? `g.r[i] * g.dlogit[i] * ${q}[q_base + j]${gainAt} - g.r[i] * g.r[i] * g.r[i] * s * g.dlogit[i] * g.raw[i] / f32(WIDTH)`
      : `g.dlogit[i] * ${q}[q_base + j]`;
    const gainWrite = l.keyNorm
      ? `
    let gain_at = (count + 1u) * TOKENS * WIDTH + at;
    ${ctx.output}[gain_at] = ${ctx.finish("gain_at", `${q}[q_base + j] * gain_term`)};`
      : "";
    const body = `  let count = ${count};
  let g = token_grads(item, count);
  let base = item * WIDTH;
  let q_base = base % QUERY_SIZE;
  let g_base = base % GAIN_SIZE;
  for (var j = 0u; j < WIDTH; j++) {
    let at = base + j;
    var key_term = 0.0; // sum_i dlogit_i key_i[j]: the token's term of the query gradient
    var gain_term = 0.0; // sum_i dlogit_i s_i[j] r_i: of the gain gradient, before the query
    for (var i = 0u; i < count; i++) {
      let s = source_at(i, at);
      let out_at = i * TOKENS * WIDTH + at;
      ${ctx.output}[out_at] = ${ctx.finish("out_at", `g.alpha[i] * ${dy}[at] + ${keyPath}${earlier}`)};
      key_term += g.dlogit[i] * s * g.r[i]${gainAt};
      gain_term += g.dlogit[i] * s * g.r[i];
    }
    let query_at = count * TOKENS * WIDTH + at;
    ${ctx.output}[query_at] = ${ctx.finish("query_at", "key_term")};${gainWrite}
  }`;
    const constants = {
      ...(stacked
        ? { STRIDE: stacked.stride, CAPACITY: stacked.capacity }
        : { SOURCES: l.count, CAPACITY: l.count }),
      WIDTH: l.width,
      TOKENS: l.tokens,
      QUERY_SIZE: l.querySize,
      GAIN_SIZE: l.gainSize,
    };
    return perItem(l.tokens, constants, `${reader}\n\n${tokenGradsHelper(ctx, l)}`, body);
  },
};

function staticNames(node: Node): string[] {
  const count = node.attrs.sources as number;
  return [...Array.from({ length: count }, (_, i) => `source${i}`), "logits", "dy"];
}

function staticAlpha(ctx: TemplateContext, count: number): string {
  const logits = ctx.operand(count);
  if (ctx.node.attrs.score === "linear")
    return `fn depth_weights() -> array<f32, SOURCES> {
  var alpha: array<f32, SOURCES>;
  for (var i = 0u; i < SOURCES; i++) { alpha[i] = ${logits}[i]; }
  return alpha;
}`;
  if (ctx.node.attrs.score === "sigmoid")
    return `fn depth_weights() -> array<f32, SOURCES> {
  var alpha: array<f32, SOURCES>;
  for (var i = 0u; i < SOURCES; i++) { alpha[i] = 1.0 / (1.0 + exp(-${logits}[i])); }
  return alpha;
}`;
  return `fn depth_weights() -> array<f32, SOURCES> {
  var alpha: array<f32, SOURCES>;
  var m = -3.0e38;
  for (var i = 0u; i < SOURCES; i++) { m = max(m, ${logits}[i]); }
  var total = 0.0;
  for (var i = 0u; i < SOURCES; i++) { alpha[i] = exp(${logits}[i] - m); total += alpha[i]; }
  for (var i = 0u; i < SOURCES; i++) { alpha[i] /= total; }
  return alpha;
}`;
}

export const attnresStaticGradSourcesTemplate: KernelTemplate = {
  operandNames: staticNames,
  render(ctx) {
    const count = ctx.node.attrs.sources as number;
    const elements = numel(ctx.graph.nodes[ctx.node.inputs[0]].type.shape);
    const dy = ctx.operand(count + 1);
    const unread = Array.from({ length: count }, (_, i) => ctx.operand(i));
    const body = `${keepBound(unread)}
  let alpha = depth_weights();
  for (var i = 0u; i < SOURCES; i++) {
    let out_at = i * ELEMENTS + item;
    ${ctx.output}[out_at] = ${ctx.finish("out_at", `alpha[i] * ${dy}[item]`)};
  }`;
    return perItem(elements, { SOURCES: count, ELEMENTS: elements }, staticAlpha(ctx, count), body);
  },
};

export const attnresStaticGradLogitsTemplate: KernelTemplate = {
  operandNames: staticNames,
  render(ctx) {
    const count = ctx.node.attrs.sources as number;
    const elements = numel(ctx.graph.nodes[ctx.node.inputs[0]].type.shape);
    const dy = ctx.operand(count + 1);
    const sums = Array.from(
      { length: count },
      (_, i) => `  for (var e = 0u; e < ELEMENTS; e++) { dalpha[${i}] += ${dy}[e] * ${ctx.operand(i)}[e]; }`,
    ).join("\n");
    const jacobian = {
      sigmoid: "dalpha[item] * alpha[item] * (1.0 - alpha[item])",
      softmax: "alpha[item] * (dalpha[item] - mean_dalpha)",
      linear: "dalpha[item]",
    }[ctx.node.attrs.score as "sigmoid" | "softmax" | "linear"];
    const body = `  let alpha = depth_weights();
  var dalpha: array<f32, SOURCES>;
${sums}
  var mean_dalpha = 0.0;
  for (var i = 0u; i < SOURCES; i++) { mean_dalpha += alpha[i] * dalpha[i]; }
  ${ctx.output}[item] = ${ctx.finish("item", jacobian)};`;
    return perItem(count, { SOURCES: count, ELEMENTS: elements }, staticAlpha(ctx, count), body);
  },
};
