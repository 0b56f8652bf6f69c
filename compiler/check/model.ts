// One model: its fields merged along the `extends` chain (the child's win), evaluated lazily
// as expressions in that merged scope so that overriding `dim` re-evaluates `hidden: 4 * dim`,
// then read into a ModelSpec.

import type { ModelSpec, NormSpec, PositionSpec, ResidualSpec, SourceSpan } from "../../format/spec.js";
import { ATTNRES_DEFAULTS } from "../../format/spec.js";
import type { Expr, Field, Identifier } from "../syntax/ast.js";
import type { CheckContext, ModelDecl } from "./context.js";
import { Evaluator, type Scope } from "./evaluate.js";
import { LayerBuilder } from "./layers.js";
import {
  attnresSources,
  MAX_ATTNRES_SOURCES,
  MAX_SINKHORN_ITERATIONS,
  MAX_STREAMS,
  MAX_PARAMETERS,
  MAX_TENSOR_ELEMENTS,
  MAX_VOCAB,
  parameterUpperBound,
} from "./limits.js";
import { readOption } from "./options.js";
import { Reader } from "./read.js";
import { closestName } from "./suggest.js";
import { describeCycle, printValue, type Value } from "./values.js";

/** Fields the compiler gives meaning to; any other field is a named helper value. */
export const MODEL_FIELDS = [
  "vocab",
  "context",
  "dim",
  "norm",
  "position",
  "tied",
  "residual",
  "layers",
] as const;
const REQUIRED_FIELDS = ["vocab", "context", "dim", "layers"] as const;

export const RESIDUAL_SWITCHES = [
  "block",
  "key_norm",
  "score",
  "weights",
  "query",
  "block_size",
  "heads",
  "gate",
  "eps",
] as const;

/** every residual kind with its options, in positional order */
export const RESIDUAL_KINDS = {
  add: [],
  attn: RESIDUAL_SWITCHES,
  dense: ["dilation", "period"],
  hyper: ["streams", "dynamic"],
  mhc: ["streams", "iterations"],
} as const;

export interface MergedField {
  name: string;
  nameSpan: SourceSpan;
  value: Expr;
  /** the model whose declaration wrote this field */
  owner: string;
}

/** The parent chain from the root ancestor down to `decl`; stops at unknown parents and cycles (reported elsewhere). */
export function ancestry(ctx: CheckContext, decl: ModelDecl): ModelDecl[] {
  const chain: ModelDecl[] = [decl];
  const seen = new Set([decl.name.name]);
  let current = decl;
  while (current.parent) {
    const parent = ctx.definitions.models.get(current.parent.name);
    if (!parent || seen.has(parent.name.name)) break;
    seen.add(parent.name.name);
    chain.unshift(parent);
    current = parent;
  }
  return chain;
}

export function mergeFields(ctx: CheckContext, chain: ModelDecl[]): Map<string, MergedField> {
  const merged = new Map<string, MergedField>();
  const budget = ctx.definitions.fieldBudget;
  if (budget && chain.length > 0) {
    const size = chain.reduce((n, decl) => n + decl.fields.length, 0);
    if (size > budget.left) {
      budget.left = 0;
      const last = chain[chain.length - 1];
      ctx.report("A0224", last.name.span, { max: MAX_PROGRAM_FIELDS, name: last.name.name });
      return merged;
    }
    budget.left -= size;
  }
  for (const decl of chain) {
    const own = new Set<string>();
    for (const field of decl.fields) {
      if (own.has(field.name.name)) {
        ctx.report("A0207", field.name.span, { name: field.name.name });
        continue;
      }
      own.add(field.name.name);
      merged.set(field.name.name, {
        name: field.name.name,
        nameSpan: field.name.span,
        value: field.value,
        owner: decl.name.name,
      });
    }
  }
  return merged;
}

class ModelScope implements Scope {
  readonly values = new Map<string, Value>();
  readonly referenced = new Set<string>();
  private readonly evaluating: string[] = [];

  constructor(
    private readonly ctx: CheckContext,
    private readonly fields: Map<string, MergedField>,
  ) {}

  lookup(name: string, at: SourceSpan): Value | undefined {
    this.referenced.add(name);
    return this.field(name, at);
  }

  field(name: string, at?: SourceSpan): Value | undefined {
    const done = this.values.get(name);
    if (done) return done;
    const field = this.fields.get(name);
    if (!field) return undefined;
    if (this.evaluating.includes(name)) {
      const cycle = describeCycle([...this.evaluating.slice(this.evaluating.indexOf(name)), name]);
      this.ctx.report("A0213", at ?? field.nameSpan, { name, cycle });
      return { kind: "error", span: at ?? field.nameSpan };
    }
    if (!this.ctx.enter(at ?? field.nameSpan, "field", name)) {
      // the whole chain above is cut here; its fields are errors, not evaluated again
      const error: Value = { kind: "error", span: at ?? field.nameSpan };
      for (const pending of this.evaluating) this.values.set(pending, error);
      return error;
    }
    this.evaluating.push(name);
    const value = new Evaluator(this.ctx, this).evaluate(field.value);
    this.evaluating.pop();
    this.ctx.leave();
    if (!this.values.has(name)) this.values.set(name, value);
    return this.values.get(name);
  }

  names(): Iterable<string> {
    return this.fields.keys();
  }
}

export interface ModelSource {
  name: string;
  nameSpan: SourceSpan;
  fields: Map<string, MergedField>;
  /** the declaration was repaired by the parser: missing fields are not reported */
  recovered: boolean;
  span: SourceSpan;
}

/** Fields of one model, its inherited ones included: honest models have a few dozen. */
export const MAX_MODEL_FIELDS = 4096;
/**
 * Fields checked across a program, each model (and ablation variant) counting its inherited
 * fields again: checking is linear in this, and it bounds the time a file can take.
 */
export const MAX_PROGRAM_FIELDS = 2 ** 19;

export function buildModel(ctx: CheckContext, source: ModelSource): ModelSpec | undefined {
  const budget = ctx.definitions.fieldBudget;
  if (budget) {
    if (source.fields.size > budget.left) {
      budget.left = 0;
      ctx.report("A0224", source.nameSpan, { max: MAX_PROGRAM_FIELDS, name: source.name });
      return undefined;
    }
    budget.left -= source.fields.size;
  }
  const scope = new ModelScope(ctx, source.fields);
  const reader = new Reader(ctx);
  const get = (name: string) => scope.field(name);

  let complete = true;
  for (const name of REQUIRED_FIELDS)
    if (!source.fields.has(name)) {
      complete = false;
      if (!source.recovered)
        ctx.report("A0214", source.nameSpan, { kind: "model", owner: source.name, name });
    }

  const read = <T>(name: string, fn: (v: Value) => T | undefined): T | undefined => {
    const value = get(name);
    if (value === undefined) return undefined;
    const result = fn(value);
    // a field already reported as wrong must not be reported again through fields derived from it
    if (result === undefined) scope.values.set(name, { kind: "error", span: value.span });
    return result;
  };
  let vocab = read("vocab", (v) => reader.integer(v, "vocab", { min: 1, max: MAX_VOCAB }));
  let context = read("context", (v) => reader.integer(v, "context", { min: 1, max: 1 << 20 }));
  const dim = read("dim", (v) =>
    tensorFits(ctx, reader.integer(v, "dim", { min: 1, max: 1 << 16 }), v, (d) => [
      `an attention weight (dim × dim = ${d} × ${d})`,
      d * d,
    ]),
  );
  const norm = readNorm(ctx, get("norm"));
  const position = readPosition(ctx, get("position"));
  if (vocab !== undefined && dim !== undefined)
    vocab = read("vocab", (v) =>
      tensorFits(ctx, vocab, v, (n) => [`the embedding table (vocab × dim = ${n} × ${dim})`, n * dim]),
    );
  if (context !== undefined && dim !== undefined && position?.kind === "learned")
    context = read("context", (v) =>
      tensorFits(ctx, context, v, (n) => [`the learned positions (context × dim = ${n} × ${dim})`, n * dim]),
    );
  const tied = read("tied", (v) => reader.bool(v, "tied")) ?? (source.fields.has("tied") ? undefined : true);
  const layersValue = get("layers");
  const layers =
    layersValue && new LayerBuilder(ctx, { dim, rope: position?.kind === "rope" }).build(layersValue);
  const residual = readResidual(
    ctx,
    get("residual"),
    layers?.length,
    layers?.reduce((n, layer) => n + layer.sublayers.length, 0),
    dim,
  );

  // every field, helpers included, is evaluated: a typo in an unused helper is still an error
  const fields: Record<string, string | number | boolean> = {};
  for (const name of source.fields.keys()) {
    const value = get(name);
    if (!value || value.kind === "error" || value.kind === "list") continue;
    fields[name] =
      value.kind === "number" || value.kind === "bool"
        ? value.value
        : value.kind === "string"
          ? value.value
          : printValue(value);
  }
  warnMisspelledHelpers(ctx, source, scope.referenced);

  if (
    !complete ||
    vocab === undefined ||
    context === undefined ||
    dim === undefined ||
    !norm ||
    !position ||
    tied === undefined ||
    !residual ||
    !layers ||
    ctx.failed
  )
    return undefined;
  if (layers.length === 0) return undefined;
  const parameters = parameterUpperBound({ vocab, dim, context, tied, position, layers, residual });
  if (parameters > MAX_PARAMETERS) {
    ctx.report("A0414", source.nameSpan, { name: source.name, count: parameters, max: MAX_PARAMETERS });
    return undefined;
  }
  return {
    name: source.name,
    vocab,
    context,
    dim,
    norm,
    position,
    tied,
    residual,
    layers,
    fields,
    span: source.span,
  };
}

function isOptionWord(name: string): boolean {
  return (MODEL_FIELDS as readonly string[]).includes(name);
}

/** A helper field nobody reads, named like a real field, is almost surely a misspelling of it. */
function warnMisspelledHelpers(ctx: CheckContext, source: ModelSource, referenced: Set<string>): void {
  for (const field of source.fields.values()) {
    if (field.owner !== source.name || isOptionWord(field.name) || referenced.has(field.name)) continue;
    const suggestion = closestName(field.name, MODEL_FIELDS);
    if (suggestion) ctx.report("A0219", field.nameSpan, { name: field.name, suggestion });
  }
}

function readNorm(ctx: CheckContext, value: Value | undefined): NormSpec | undefined {
  if (!value) return { kind: "rmsnorm", eps: 1e-6 };
  const option = readOption(ctx, value, "norm", { rmsnorm: ["eps"], layernorm: ["eps"] });
  if (!option) return undefined;
  const kind = option.kind as NormSpec["kind"];
  const epsValue = option.args.get("eps");
  const eps = epsValue
    ? new Reader(ctx).number(epsValue, "eps", { above: 0, below: 1 })
    : kind === "rmsnorm"
      ? 1e-6
      : 1e-5;
  return eps === undefined ? undefined : { kind, eps };
}

function readPosition(ctx: CheckContext, value: Value | undefined): PositionSpec | undefined {
  if (!value) return { kind: "rope", theta: 10000 };
  const option = readOption(ctx, value, "position", { rope: ["theta"], learned: [], none: [] });
  if (!option) return undefined;
  if (option.kind !== "rope") return { kind: option.kind as "learned" | "none" };
  const thetaValue = option.args.get("theta");
  const theta = thetaValue ? new Reader(ctx).number(thetaValue, "rope theta", { above: 1 }) : 10000;
  return theta === undefined ? undefined : { kind: "rope", theta };
}

/** `n`, or undefined after A0411 when the tensor `describe(n)` names would be too large. */
function tensorFits(
  ctx: CheckContext,
  n: number | undefined,
  value: Value,
  describe: (n: number) => [string, number],
): number | undefined {
  if (n === undefined) return undefined;
  const [what, count] = describe(n);
  if (count <= MAX_TENSOR_ELEMENTS) return n;
  ctx.report("A0411", value.span, { what, count, max: MAX_TENSOR_ELEMENTS });
  return undefined;
}

function readResidual(
  ctx: CheckContext,
  value: Value | undefined,
  layerCount: number | undefined,
  sublayerCount: number | undefined,
  dim: number | undefined,
): ResidualSpec | undefined {
  if (!value) return { kind: "add" };
  const option = readOption(ctx, value, "residual kind", RESIDUAL_KINDS);
  if (!option) return undefined;
  const reader = new Reader(ctx);
  const arg = <T>(name: string, fallback: T, fn: (v: Value) => T | undefined): T | undefined => {
    const given = option.args.get(name);
    return given ? fn(given) : fallback;
  };
  const count = (name: string, what: string, fallback: number, max: number) =>
    arg(name, fallback, (v) => reader.integer(v, what, { min: 1, max }));
  switch (option.kind) {
    case "add":
      return { kind: "add" };
    case "dense": {
      // past the depth, a dilation or period would leave the averages nothing to do
      const layers = layerCount ?? Number.MAX_SAFE_INTEGER;
      const dilation = count("dilation", "the DenseFormer dilation", 1, layers);
      const period = count("period", "the DenseFormer period", 1, layers);
      if (dilation === undefined || period === undefined) return undefined;
      if (layerCount !== undefined) {
        let total = 0;
        for (let i = period; i <= layerCount; i += period) total += Math.floor(i / dilation) + 1;
        if (total > MAX_ATTNRES_SOURCES) {
          ctx.report("A0418", value.span, { layers: layerCount, count: total, max: MAX_ATTNRES_SOURCES });
          return undefined;
        }
      }
      return { kind: "dense", dilation, period };
    }
    case "hyper": {
      const streams = count("streams", "the number of residual streams", 4, MAX_STREAMS);
      const dynamic = arg("dynamic", false, (v) => reader.bool(v, "dynamic"));
      if (streams === undefined || dynamic === undefined) return undefined;
      return { kind: "hyper", streams, dynamic };
    }
    case "mhc": {
      const streams = count("streams", "the number of residual streams", 4, MAX_STREAMS);
      const iterations = count(
        "iterations",
        "the number of Sinkhorn iterations",
        20,
        MAX_SINKHORN_ITERATIONS,
      );
      if (streams === undefined || iterations === undefined) return undefined;
      return { kind: "mhc", streams, iterations };
    }
  }
  let blocks = arg<number | null>("block", null, (v) =>
    reader.integer(v, "the number of AttnRes blocks", { min: 1 }),
  );
  const blockValue = option.args.get("block");
  if (typeof blocks === "number" && layerCount !== undefined && blocks > layerCount) {
    ctx.report("A0404", blockValue!.span, { blocks, layers: layerCount });
    blocks = undefined;
  }
  const blockSize = arg<number | null>("block_size", null, (v) =>
    reader.integer(v, "the layers per AttnRes block", { min: 1 }),
  );
  if (typeof blocks === "number" && typeof blockSize === "number") {
    ctx.report("A0415", option.args.get("block_size")!.span);
    return undefined;
  }
  const keyNorm = arg("key_norm", true, (v) => reader.bool(v, "key_norm"));
  const score = arg("score", "softmax", (v) => reader.choice(v, "score", ["softmax", "sigmoid"] as const));
  const weights = arg("weights", "query", (v) => reader.choice(v, "weights", ["query", "static"] as const));
  const query = arg("query", "vector", (v) => reader.choice(v, "query", ["vector", "projected"] as const));
  let heads = arg("heads", 1, (v) => reader.integer(v, "the number of depth-attention heads", { min: 1 }));
  const gate = arg("gate", false, (v) => reader.bool(v, "gate"));
  const eps = arg("eps", ATTNRES_DEFAULTS.eps as number, (v) =>
    reader.number(v, "the key-norm eps", { above: 0, below: 1 }),
  );
  if (typeof heads === "number" && heads > 1) {
    const headsSpan = option.args.get("heads")!.span;
    if (dim !== undefined && dim % heads !== 0) {
      ctx.report("A0416", headsSpan, { heads, dim });
      heads = undefined;
    } else if (weights === "static") {
      ctx.report("A0417", headsSpan, { option: "heads", other: "weights = static (one logit per source)" });
      heads = undefined;
    }
  }
  if (
    blocks === undefined ||
    blockSize === undefined ||
    keyNorm === undefined ||
    !score ||
    !weights ||
    !query ||
    heads === undefined ||
    gate === undefined ||
    eps === undefined
  )
    return undefined;
  if (sublayerCount !== undefined) {
    const partitions =
      blockSize !== null && layerCount !== undefined ? Math.ceil(layerCount / blockSize) : blocks;
    const total = attnresSources(sublayerCount, partitions);
    if (total > MAX_ATTNRES_SOURCES) {
      ctx.report("A0412", value.span, { sublayers: sublayerCount, count: total, max: MAX_ATTNRES_SOURCES });
      return undefined;
    }
  }
  const spec: ResidualSpec = { kind: "attn", blocks, keyNorm, score, weights, query };
  // the newer options are written only when given, so older models' specs stay as they were
  if (blockSize !== null) spec.blockSize = blockSize;
  if (heads !== 1) spec.heads = heads;
  if (gate) spec.gate = gate;
  if (eps !== ATTNRES_DEFAULTS.eps) spec.eps = eps;
  return spec;
}

export function modelSourceOf(ctx: CheckContext, decl: ModelDecl): ModelSource {
  const chain = ancestry(ctx, decl);
  const budget = ctx.definitions.fieldBudget;
  // past the program's budget mergeFields reports A0224 and merges nothing: not a missing field
  const overBudget = budget !== undefined && chain.reduce((n, d) => n + d.fields.length, 0) > budget.left;
  return {
    name: decl.name.name,
    nameSpan: decl.name.span,
    fields: mergeFields(ctx, chain),
    recovered: decl.recovered || overBudget,
    span: decl.span,
  };
}

/** A model that differs from `base` in one field: an ablation variant. */
export function variantSource(
  ctx: CheckContext,
  base: ModelDecl,
  name: string,
  field: Identifier,
  value: Expr,
  span: SourceSpan,
): ModelSource {
  const fields = new Map(mergeFields(ctx.fork(), ancestry(ctx, base)));
  fields.set(field.name, { name: field.name, nameSpan: field.span, value, owner: name });
  return { name, nameSpan: span, fields, recovered: false, span };
}

export type { Field };
