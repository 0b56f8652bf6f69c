// AttnRes backward. Sources are separate operands, so per-source code is unrolled at render time.
// token_grads(p) recomputes one token's depth weights and logit gradients, reading each source
// once; one invocation per token then writes all S source gradients and the token's terms of the
// query and gain gradients from them (the graph sums those over tokens with reduce_leading).

import type { Node } from "../../ir/ir.js";
import { numel } from "../../ir/ir.js";
import type { KernelTemplate, TemplateContext } from "../../codegen/template.js";
import { f32Literal } from "../../codegen/wgsl.js";
import { keepBound, perItem } from "../../codegen/kernels/backward/common.js";

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
  return names;
}

/** alpha from `logit` and dl from `dalpha`, over S entries, as WGSL statements */
function normaliser(sigmoid: boolean): string {
  if (sigmoid)
    return `  for (var i = 0u; i < SOURCES; i++) {
    let a = 1.0 / (1.0 + exp(-g.logit[i]));
    g.alpha[i] = a;
    g.dlogit[i] = dalpha[i] * a * (1.0 - a);
  }`;
  return `  var m = -3.0e38;
  for (var i = 0u; i < SOURCES; i++) { m = max(m, g.logit[i]); }
  var total = 0.0;
  for (var i = 0u; i < SOURCES; i++) { g.alpha[i] = exp(g.logit[i] - m); total += g.alpha[i]; }
  var mean_dalpha = 0.0;
  for (var i = 0u; i < SOURCES; i++) { g.alpha[i] /= total; mean_dalpha += g.alpha[i] * dalpha[i]; }
  for (var i = 0u; i < SOURCES; i++) { g.dlogit[i] = g.alpha[i] * (dalpha[i] - mean_dalpha); }`;
}

function tokenGradsHelper(ctx: TemplateContext, l: Layout): string {
  const q = ctx.operand(l.count);
  const gain = l.keyNorm ? ctx.operand(l.count + 1) : "";
  const dy = ctx.operand(operandNames(ctx.node).length - 1);
  const perSource = Array.from({ length: l.count }, (_, i) => {
    const s = ctx.operand(i);
    return `  {
    var squares = 0.0;
    var raw = 0.0;
    var da = 0.0;
    for (var j = 0u; j < WIDTH; j++) {
      let v = ${s}[base + j];
      squares += v * v;
      raw += ${q}[q_base + j] * v${l.keyNorm ? ` * ${gain}[g_base + j]` : ""};
      da += ${dy}[base + j] * v;
    }
    g.r[${i}] = ${l.keyNorm ? "inverseSqrt(squares / f32(WIDTH) + EPS)" : "1.0"};
    g.raw[${i}] = raw;
    g.logit[${i}] = raw * g.r[${i}];
    dalpha[${i}] = da;
  }`;
  }).join("\n");
  return `const EPS: f32 = ${f32Literal(ctx.node.attrs.eps as number)};

struct TokenGrads {
  alpha: array<f32, SOURCES>,
  dlogit: array<f32, SOURCES>,
  r: array<f32, SOURCES>, // key-norm scale (1 without key norm)
  raw: array<f32, SOURCES>, // query · (source * gain), before the key-norm scale
  logit: array<f32, SOURCES>,
}

fn token_grads(p: u32) -> TokenGrads {
  let base = p * WIDTH;
  let q_base = base % QUERY_SIZE;
  let g_base = base % GAIN_SIZE;
  var g: TokenGrads;
  var dalpha: array<f32, SOURCES>;
${perSource}
${normaliser(l.sigmoid)}
  return g;
}`;
}

function constantsOf(l: Layout) {
  return {
    SOURCES: l.count,
    WIDTH: l.width,
    TOKENS: l.tokens,
    QUERY_SIZE: l.querySize,
    GAIN_SIZE: l.gainSize,
  };
}

/** sum_i dlogit_i key_i[j] of token p, as a WGSL expression; key_i = s_i r_i gain (or s_i) */
function keyTerm(ctx: TemplateContext, l: Layout, at: string, j: string): string {
  const gain = l.keyNorm ? ` * ${ctx.operand(l.count + 1)}[g_base + ${j}]` : "";
  return Array.from(
    { length: l.count },
    (_, i) => `g.dlogit[${i}] * ${ctx.operand(i)}[${at}] * g.r[${i}]${gain}`,
  ).join(" + ");
}

export const attnresGradSourcesTemplate: KernelTemplate = {
  operandNames,
  render(ctx) {
    const l = layoutOf(ctx);
    const q = ctx.operand(l.count);
    const gain = l.keyNorm ? ctx.operand(l.count + 1) : "";
    const dy = ctx.operand(operandNames(ctx.node).length - 1);
    const writes = Array.from({ length: l.count }, (_, i) => {
      const keyPath = l.keyNorm
        ? `g.r[${i}] * g.dlogit[${i}] * ${q}[q_base + j] * ${gain}[g_base + j] - g.r[${i}] * g.r[${i}] * g.r[${i}] * ${ctx.operand(i)}[at] * g.dlogit[${i}] * g.raw[${i}] / f32(WIDTH)`
        : `g.dlogit[${i}] * ${q}[q_base + j]`;
      return `    {
      let out_at = ${i}u * TOKENS * WIDTH + at;
      ${ctx.output}[out_at] = ${ctx.finish("out_at", `g.alpha[${i}] * ${dy}[at] + ${keyPath}`)};
    }`;
    }).join("\n");
    const gainTerms = Array.from(
      { length: l.count },
      (_, i) => `g.dlogit[${i}] * ${ctx.operand(i)}[at] * g.r[${i}]`,
    ).join(" + ");
    const perToken = `    {
      let query_at = SOURCES * TOKENS * WIDTH + at;
      ${ctx.output}[query_at] = ${ctx.finish("query_at", keyTerm(ctx, l, "at", "j"))};
    }${
      l.keyNorm
        ? `
    {
      let gain_at = (SOURCES + 1u) * TOKENS * WIDTH + at;
      ${ctx.output}[gain_at] = ${ctx.finish("gain_at", `${q}[q_base + j] * (${gainTerms})`)};
    }`
        : ""
    }`;
    const body = `  let g = token_grads(item);
  let base = item * WIDTH;
  let q_base = base % QUERY_SIZE;
  let g_base = base % GAIN_SIZE;
  for (var j = 0u; j < WIDTH; j++) {
    let at = base + j;
${writes}
${perToken}
  }`;
    return perItem(l.tokens, constantsOf(l), tokenGradsHelper(ctx, l), body);
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
