// Lowering: a checked ModelSpec becomes the forward tensor graph for a fixed batch and sequence
// length, with inputs "tokens" and "targets" and outputs "logits" and "loss".

import { GraphBuilder } from "./builder.js";
import type { Graph } from "./ir.js";
import type { ModelSpec } from "../../format/spec.js";
import { lowerResidual, nameSublayers } from "./lower/residual.js";
import type { LowerContext } from "./lower/sublayers.js";
import { lowerNorm } from "./lower/sublayers.js";

export interface LowerOptions {
  batch: number;
  seq: number;
}

/** a spec/options combination lowering cannot honour (e.g. seq > context); the message is for the user */
export class LoweringError extends Error {}

const EMBED_STD = 0.02;

function checkOptions(model: ModelSpec, opts: LowerOptions): void {
  for (const [key, value] of Object.entries(opts))
    if (!Number.isInteger(value) || value < 1)
      throw new LoweringError(`${key} must be a positive integer, got ${value}`);
  if (opts.seq > model.context)
    throw new LoweringError(`seq ${opts.seq} exceeds model ${model.name}'s context ${model.context}`);
  const r = model.residual;
  if (
    r.kind === "attn" &&
    r.blocks !== null &&
    !(Number.isInteger(r.blocks) && r.blocks >= 1 && r.blocks <= model.layers.length)
  )
    throw new LoweringError(
      `blocks must be between 1 and the number of layers (${model.layers.length}), got ${r.blocks}`,
    );
}

function lowerEmbedding(ctx: LowerContext, tokens: number): number {
  const { b, model } = ctx;
  return b.scoped("embed", () => {
    const table = b.param(
      "tokens",
      [model.vocab, model.dim],
      { kind: "normal", std: EMBED_STD },
      { decay: true, group: "embedding" },
    );
    const x = b.op("embedding", [table, tokens]);
    if (model.position.kind !== "learned") return x;
    const positions = b.param(
      "positions",
      [model.context, model.dim],
      { kind: "normal", std: EMBED_STD },
      { decay: true, group: "position" },
    );
    if (ctx.decode) return b.op("add_position_at", [x, positions, ctx.decode.position]);
    return b.op("add_positions", [x, positions]);
  });
}

function lowerHead(ctx: LowerContext, n: number): number {
  const { b, model } = ctx;
  return b.scoped("head", () => {
    if (model.tied) {
      const table = b.graph.nodes.find((node) => node.op === "param" && node.attrs.name === "embed.tokens");
      if (!table) throw new Error("internal: tied head without an embedding table");
      return b.op("matmul", [n, table.id], { ta: false, tb: true });
    }
    const w = b.param(
      "w",
      [model.dim, model.vocab],
      { kind: "normal", std: EMBED_STD },
      { decay: true, group: "head" },
    );
    return b.op("matmul", [n, w], { ta: false, tb: false });
  });
}

function newContext(model: ModelSpec): LowerContext {
  const sublayerCount = model.layers.reduce((n, layer) => n + layer.sublayers.length, 0);
  const b = new GraphBuilder(model.name);
  return { b, model, outputStd: EMBED_STD / Math.sqrt(2 * Math.max(1, sublayerCount)) };
}

/** embedding, the residual stream through every sublayer, the final norm and the head: logits */
function lowerLogits(ctx: LowerContext, tokens: number): number {
  const x0 = lowerEmbedding(ctx, tokens);
  const last = lowerResidual(ctx, x0, nameSublayers(ctx));
  const normed = ctx.b.scoped("final", () => lowerNorm(ctx, last));
  return lowerHead(ctx, normed);
}

export function lowerModel(model: ModelSpec, opts: LowerOptions): Graph {
  checkOptions(model, opts);
  const ctx = newContext(model);
  const { b } = ctx;
  const shape = [opts.batch, opts.seq];
  const tokens = b.input("tokens", "i32", shape);
  const targets = b.input("targets", "i32", shape);
  const logits = lowerLogits(ctx, tokens);
  const loss = b.scoped("loss", () => b.op("cross_entropy", [logits, targets]));
  b.output("logits", logits);
  b.output("loss", loss);
  return b.graph;
}

/**
 * One step of decoding (lower/decode.ts): inputs "tokens" i32[B,1] (each sequence's newest token),
 * "position" i32[1] (where it sits, the same for every sequence) and the key and value caches;
 * outputs "logits" [B,1,V] and each attention sublayer's present key and value.
 */
export function lowerDecodeStep(model: ModelSpec, opts: { batch: number }): Graph {
  checkOptions(model, { batch: opts.batch, seq: 1 });
  const ctx = newContext(model);
  const { b } = ctx;
  const tokens = b.input("tokens", "i32", [opts.batch, 1]);
  const position = b.input("position", "i32", [1]);
  ctx.decode = { position, batch: opts.batch, context: model.context, caches: [] };
  b.output("logits", lowerLogits(ctx, tokens));
  b.graph.caches = ctx.decode.caches;
  return b.graph;
}
