// A `train` declaration → TrainSpec: settings with defaults, checked against the model it names.

import { suggestionHint } from "../diagnostics/diagnostic.js";
import type { ModelSpec, OptimizerSpec, ScheduleSpec, SourceSpan, TrainSpec } from "../../format/spec.js";
import type { CheckContext, TrainDecl } from "./context.js";
import { Evaluator, type Scope } from "./evaluate.js";
import { liveActivations, MAX_LIVE_ACTIVATIONS, MAX_TENSOR_ELEMENTS, widestRow } from "./limits.js";
import { readOption } from "./options.js";
import { Reader } from "./read.js";
import { closestName } from "./suggest.js";
import { describeCycle, type Value } from "./values.js";

export const TRAIN_FIELDS = [
  "model",
  "data",
  "tokenizer",
  "batch",
  "seq",
  "steps",
  "eval_every",
  "eval_batches",
  "log_every",
  "checkpoint_every",
  "optimizer",
  "schedule",
  "seed",
] as const;

/** the attention kernel dispatches one workgroup layer per sequence: 65535 is WebGPU's guaranteed grid size */
export const MAX_BATCH = 65535;
/** batch × seq: the rows of every matmul, 64 to a tile, within 65535 tiles and well inside memory */
export const MAX_TOKENS_PER_STEP = 1 << 21;
/** validation batches are sampled once, up front, and held in host memory */
export const MAX_EVAL_BATCHES = 10000;
/** eval_batches × batch × seq: 2^24 tokens is 64 MiB of inputs and as much of targets */
export const MAX_EVAL_TOKENS = 1 << 24;

const OPTIMIZER_PARAMS = ["lr", "beta1", "beta2", "eps", "weight_decay", "clip"] as const;
const SCHEDULE_PARAMS = ["warmup", "min_lr_ratio"] as const;
const TOKENIZER_VOCAB = { bytes: 256, gpt2: 50257 } as const;

class TrainScope implements Scope {
  private readonly values = new Map<string, Value>();
  private readonly evaluating: string[] = [];
  /** the first field of each name, as the linear search it replaces found it */
  private readonly fields = new Map<string, TrainDecl["fields"][number]>();

  constructor(
    private readonly ctx: CheckContext,
    private readonly decl: TrainDecl,
  ) {
    for (const field of decl.fields)
      if (!this.fields.has(field.name.name)) this.fields.set(field.name.name, field);
  }

  lookup(name: string, at: SourceSpan): Value | undefined {
    const done = this.values.get(name);
    if (done) return done;
    const field = this.fields.get(name);
    if (!field) return undefined;
    if (this.evaluating.includes(name)) {
      this.ctx.report("A0213", at, {
        name,
        cycle: describeCycle([...this.evaluating.slice(this.evaluating.indexOf(name)), name]),
      });
      return { kind: "error", span: at };
    }
    if (!this.ctx.enter(at, "field", name)) {
      const error: Value = { kind: "error", span: at };
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
    return this.decl.fields.map((f) => f.name.name);
  }
}

export function buildTrain(
  ctx: CheckContext,
  decl: TrainDecl,
  models: Map<string, ModelSpec>,
): TrainSpec | undefined {
  const scope = new TrainScope(ctx, decl);
  const reader = new Reader(ctx);
  const seen = new Set<string>();
  for (const field of decl.fields) {
    const name = field.name.name;
    if (seen.has(name)) ctx.report("A0207", field.name.span, { name });
    seen.add(name);
    if (!(TRAIN_FIELDS as readonly string[]).includes(name))
      ctx.report("A0204", field.name.span, {
        name,
        where: `train '${decl.name.name}'`,
        hint: suggestionHint(closestName(name, TRAIN_FIELDS)),
      });
  }
  const get = (name: string) => (seen.has(name) ? scope.lookup(name, decl.name.span) : undefined);
  const count = (name: string, fallback: number | undefined, min = 1) => {
    const value = get(name);
    return value ? reader.integer(value, name, { min, max: 1e9 }) : fallback;
  };

  const modelValue = get("model");
  let model: ModelSpec | undefined;
  let modelName: string | undefined;
  if (!modelValue) {
    if (!decl.recovered)
      ctx.report("A0214", decl.name.span, { kind: "train", owner: decl.name.name, name: "model" });
  } else if (modelValue.kind === "symbol") {
    modelName = modelValue.name;
    if (!ctx.definitions.models.has(modelName)) {
      const hint = suggestionHint(closestName(modelName, ctx.definitions.models.keys()));
      ctx.report("A0203", modelValue.span, { name: modelName, hint });
    } else model = models.get(modelName);
  } else reader.choice(modelValue, "model", [...ctx.definitions.models.keys()]);

  const dataValue = get("data");
  const data = dataValue ? reader.string(dataValue, "data") : "brown";
  const tokenizerValue = get("tokenizer");
  const tokenizer = tokenizerValue
    ? reader.choice(tokenizerValue, "tokenizer", ["bytes", "gpt2"] as const)
    : "bytes";
  const batchValue = get("batch");
  const batch = batchValue ? reader.integer(batchValue, "batch", { min: 1, max: MAX_BATCH }) : 8;
  const seqValue = get("seq");
  const seq = seqValue ? reader.integer(seqValue, "seq", { min: 1, max: 1 << 20 }) : model?.context;
  const steps = count("steps", 1000);
  const evalEvery = count("eval_every", 50);
  const evalBatchesValue = get("eval_batches");
  const evalBatches = evalBatchesValue
    ? reader.integer(evalBatchesValue, "eval_batches", { min: 1, max: MAX_EVAL_BATCHES })
    : 4;
  const logEvery = count("log_every", 10);
  const checkpointEvery = count("checkpoint_every", 100);
  const seed = count("seed", 0, 0);
  const optimizer = readOptimizer(ctx, get("optimizer"));
  const schedule = readSchedule(ctx, get("schedule"), steps);

  if (model && seq !== undefined && seq > model.context)
    ctx.report("A0501", seqValue?.span ?? decl.name.span, { seq, context: model.context, model: model.name });
  if (batch !== undefined && seq !== undefined) {
    const at = batchValue?.span ?? seqValue?.span ?? decl.name.span;
    const tokens = batch * seq;
    if (tokens > MAX_TOKENS_PER_STEP)
      ctx.report("A0503", at, {
        what: `batch × seq, the tokens per step,`,
        count: tokens,
        max: MAX_TOKENS_PER_STEP,
      });
    else if (model && tokens * widestRow(model) > MAX_TENSOR_ELEMENTS)
      ctx.report("A0411", at, {
        what: `the widest activation (batch × seq × ${widestRow(model)} = ${batch} × ${seq} × ${widestRow(model)})`,
        count: tokens * widestRow(model),
        max: MAX_TENSOR_ELEMENTS,
      });
    else if (model && liveActivations(model, tokens) > MAX_LIVE_ACTIVATIONS)
      ctx.report("A0411", at, {
        what: `the activations kept at once (estimated for batch × seq = ${batch} × ${seq})`,
        count: liveActivations(model, tokens),
        max: MAX_LIVE_ACTIVATIONS,
      });
    else if (evalBatches !== undefined && tokens * evalBatches > MAX_EVAL_TOKENS)
      ctx.report("A0503", evalBatchesValue?.span ?? at, {
        what: "eval_batches × batch × seq, the validation tokens held in memory,",
        count: tokens * evalBatches,
        max: MAX_EVAL_TOKENS,
      });
  }
  if (model && tokenizer && model.vocab < TOKENIZER_VOCAB[tokenizer])
    ctx.report("A0409", tokenizerValue?.span ?? decl.name.span, {
      tokenizer,
      needed: TOKENIZER_VOCAB[tokenizer],
      model: model.name,
      vocab: model.vocab,
    });

  if (
    ctx.failed ||
    !model ||
    data === undefined ||
    !tokenizer ||
    batch === undefined ||
    seq === undefined ||
    steps === undefined ||
    evalEvery === undefined ||
    evalBatches === undefined ||
    logEvery === undefined ||
    checkpointEvery === undefined ||
    seed === undefined ||
    !optimizer ||
    !schedule
  )
    return undefined;
  return {
    name: decl.name.name,
    model: model.name,
    data,
    tokenizer,
    batch,
    seq,
    steps,
    evalEvery,
    evalBatches,
    logEvery,
    checkpointEvery,
    optimizer,
    schedule,
    seed,
    span: decl.span,
  };
}

function readOptimizer(ctx: CheckContext, value: Value | undefined): OptimizerSpec | undefined {
  const defaults: OptimizerSpec = {
    kind: "adamw",
    lr: 3e-4,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: 0.1,
    clip: 1,
  };
  if (!value) return defaults;
  const option = readOption(ctx, value, "optimizer", { adamw: OPTIMIZER_PARAMS });
  if (!option) return undefined;
  const reader = new Reader(ctx);
  const arg = (name: string, fallback: number, range: Parameters<Reader["number"]>[2]) => {
    const given = option.args.get(name);
    return given ? reader.number(given, name, range) : fallback;
  };
  const lr = arg("lr", defaults.lr, { above: 0, max: 10 });
  const beta1 = arg("beta1", defaults.beta1, { min: 0, below: 1 });
  const beta2 = arg("beta2", defaults.beta2, { min: 0, below: 1 });
  const eps = arg("eps", defaults.eps, { above: 0, below: 1 });
  const weightDecay = arg("weight_decay", defaults.weightDecay, { min: 0, max: 10 });
  const clip = arg("clip", defaults.clip, { min: 0 });
  if ([lr, beta1, beta2, eps, weightDecay, clip].some((n) => n === undefined)) return undefined;
  return {
    kind: "adamw",
    lr: lr!,
    beta1: beta1!,
    beta2: beta2!,
    eps: eps!,
    weightDecay: weightDecay!,
    clip: clip!,
  };
}

function readSchedule(
  ctx: CheckContext,
  value: Value | undefined,
  steps: number | undefined,
): ScheduleSpec | undefined {
  const defaultWarmup = steps === undefined ? 0 : Math.floor(steps / 10);
  if (!value) return { kind: "cosine", warmup: defaultWarmup, minLrRatio: 0.1 };
  const option = readOption(ctx, value, "schedule", { cosine: SCHEDULE_PARAMS, constant: ["warmup"] });
  if (!option) return undefined;
  const reader = new Reader(ctx);
  const warmupValue = option.args.get("warmup");
  const warmup = warmupValue ? reader.integer(warmupValue, "warmup", { min: 0 }) : defaultWarmup;
  const ratioValue = option.args.get("min_lr_ratio");
  const minLrRatio = ratioValue
    ? reader.number(ratioValue, "min_lr_ratio", { min: 0, max: 1 })
    : option.kind === "cosine"
      ? 0.1
      : 1;
  if (warmup === undefined || minLrRatio === undefined) return undefined;
  if (steps !== undefined && warmup > steps) {
    ctx.report("A0502", warmupValue?.span ?? option.span, { warmup, steps });
    return undefined;
  }
  return { kind: option.kind as ScheduleSpec["kind"], warmup, minLrRatio };
}
