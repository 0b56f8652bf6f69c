// Shape checks for a ModelSpec and a TrainSpec read back from a file (a checkpoint's state.json):
// the checker guarantees these for specs it builds, but a file can hold anything. Each function
// returns the first problem as text ("model.dim is -4, expected a whole number >= 1"), or
// undefined. Only types come from the compiler: the runtime checks files without it.

import type { ModelSpec, TrainSpec } from "../format/spec.js";
import { isObject, show } from "../format/damaged-file.js";

class Problem extends Error {}

function fail(path: string, value: unknown, expected: string): never {
  throw new Problem(`${path} is ${show(value)}, expected ${expected}`);
}

function wholeNumber(path: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max)
    fail(
      path,
      value,
      `a whole number${max < Number.MAX_SAFE_INTEGER ? ` in [${min}, ${max}]` : ` >= ${min}`}`,
    );
  return value as number;
}

function finite(
  path: string,
  value: unknown,
  range: { above?: number; min?: number; below?: number; max?: number },
): number {
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (range.above === undefined || value > range.above) &&
    (range.min === undefined || value >= range.min) &&
    (range.below === undefined || value < range.below) &&
    (range.max === undefined || value <= range.max);
  if (!ok) {
    const lo =
      range.above !== undefined ? `> ${range.above}` : range.min !== undefined ? `>= ${range.min}` : "";
    const hi =
      range.below !== undefined ? `< ${range.below}` : range.max !== undefined ? `<= ${range.max}` : "";
    fail(path, value, `a finite number${lo || hi ? " " + [lo, hi].filter(Boolean).join(" and ") : ""}`);
  }
  return value as number;
}

function text(path: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) fail(path, value, "a non-empty string");
  return value as string;
}

function bool(path: string, value: unknown): boolean {
  if (typeof value !== "boolean") fail(path, value, "true or false");
  return value as boolean;
}

function oneOf<T extends string>(path: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value))
    fail(path, value, `one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`);
  return value as T;
}

function object(path: string, value: unknown): Record<string, unknown> {
  if (!isObject(value)) fail(path, value, "an object");
  return value as Record<string, unknown>;
}

function collect(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    if (err instanceof Problem) return err.message;
    throw err;
  }
}

/** The first problem with `value` as a checked ModelSpec, or undefined when it is one. */
export function modelSpecProblem(value: unknown, path = "model"): string | undefined {
  return collect(() => {
    const m = object(path, value);
    text(`${path}.name`, m.name);
    wholeNumber(`${path}.vocab`, m.vocab, 1, 1 << 24);
    wholeNumber(`${path}.context`, m.context, 1, 1 << 20);
    const dim = wholeNumber(`${path}.dim`, m.dim, 1, 1 << 16);
    const norm = object(`${path}.norm`, m.norm);
    oneOf(`${path}.norm.kind`, norm.kind, ["rmsnorm", "layernorm"] as const);
    finite(`${path}.norm.eps`, norm.eps, { above: 0, below: 1 });
    const position = object(`${path}.position`, m.position);
    const positionKind = oneOf(`${path}.position.kind`, position.kind, ["rope", "learned", "none"] as const);
    if (positionKind === "rope") finite(`${path}.position.theta`, position.theta, { above: 0 });
    bool(`${path}.tied`, m.tied);
    if (!Array.isArray(m.layers) || m.layers.length === 0)
      fail(`${path}.layers`, m.layers, "a list of at least one layer");
    const layers = m.layers as unknown[];
    layers.forEach((layerValue, li) => {
      const lp = `${path}.layers[${li}]`;
      const layer = object(lp, layerValue);
      if (typeof layer.block !== "string") fail(`${lp}.block`, layer.block, "a string");
      if (!Array.isArray(layer.sublayers) || layer.sublayers.length === 0)
        fail(`${lp}.sublayers`, layer.sublayers, "a list of at least one sublayer");
      (layer.sublayers as unknown[]).forEach((subValue, si) => {
        const sp = `${lp}.sublayers[${si}]`;
        const sub = object(sp, subValue);
        const kind = oneOf(`${sp}.kind`, sub.kind, ["attention", "mlp"] as const);
        if (kind === "attention") {
          const heads = wholeNumber(`${sp}.heads`, sub.heads, 1, dim);
          const kvHeads = wholeNumber(`${sp}.kvHeads`, sub.kvHeads, 1, heads);
          if (heads % kvHeads !== 0) fail(`${sp}.kvHeads`, kvHeads, `a divisor of heads (${heads})`);
          const headDim = wholeNumber(`${sp}.headDim`, sub.headDim, 1, 1 << 16);
          if (positionKind === "rope" && headDim % 2 !== 0)
            fail(`${sp}.headDim`, headDim, "an even number (RoPE)");
        } else {
          oneOf(`${sp}.mlp`, sub.mlp, ["gelu", "swiglu"] as const);
          wholeNumber(`${sp}.hidden`, sub.hidden, 1, 1 << 20);
        }
      });
    });
    const residual = object(`${path}.residual`, m.residual);
    const rp = `${path}.residual`;
    const kind = oneOf(`${rp}.kind`, residual.kind, ["add", "attn", "dense", "hyper", "mhc"] as const);
    if (kind === "attn") {
      if (residual.blocks !== null) wholeNumber(`${rp}.blocks`, residual.blocks, 1, layers.length);
      bool(`${rp}.keyNorm`, residual.keyNorm);
      oneOf(`${rp}.score`, residual.score, ["softmax", "sigmoid"] as const);
      oneOf(`${rp}.weights`, residual.weights, ["query", "static"] as const);
      oneOf(`${rp}.query`, residual.query, ["vector", "projected"] as const);
      // options added later are absent from older records
      if (residual.blockSize !== undefined && residual.blockSize !== null) {
        // a block size past the depth is one block, as the official code counts
        wholeNumber(`${rp}.blockSize`, residual.blockSize, 1);
        if (residual.blocks !== null) fail(`${rp}.blocks`, residual.blocks, "null when blockSize is given");
      }
      if (residual.heads !== undefined) {
        const heads = wholeNumber(`${rp}.heads`, residual.heads, 1, dim);
        if (dim % heads !== 0) fail(`${rp}.heads`, heads, `a divisor of dim (${dim})`);
        if (heads > 1 && residual.weights === "static")
          fail(`${rp}.heads`, heads, "1 with static weights (one logit per source)");
      }
      if (residual.gate !== undefined) bool(`${rp}.gate`, residual.gate);
      if (
        residual.eps !== undefined &&
        !(typeof residual.eps === "number" && residual.eps > 0 && residual.eps < 1)
      )
        fail(`${rp}.eps`, residual.eps, "a number between 0 and 1");
    } else if (kind === "dense") {
      wholeNumber(`${rp}.dilation`, residual.dilation, 1, layers.length);
      wholeNumber(`${rp}.period`, residual.period, 1, layers.length);
    } else if (kind === "hyper" || kind === "mhc") {
      wholeNumber(`${rp}.streams`, residual.streams, 1, 16);
      if (kind === "hyper") bool(`${rp}.dynamic`, residual.dynamic);
      else wholeNumber(`${rp}.iterations`, residual.iterations, 1, 100);
    }
    const fields = object(`${path}.fields`, m.fields);
    for (const [key, field] of Object.entries(fields))
      if (!["string", "number", "boolean"].includes(typeof field))
        fail(`${path}.fields.${key}`, field, "a string, number or boolean");
  });
}

/** The first problem with `value` as a checked TrainSpec, or undefined when it is one. */
export function trainSpecProblem(value: unknown, path = "train"): string | undefined {
  return collect(() => {
    const t = object(path, value);
    text(`${path}.name`, t.name);
    text(`${path}.model`, t.model);
    text(`${path}.data`, t.data);
    oneOf(`${path}.tokenizer`, t.tokenizer, ["bytes", "gpt2"] as const);
    wholeNumber(`${path}.batch`, t.batch, 1, 1e9);
    wholeNumber(`${path}.seq`, t.seq, 1, 1 << 20);
    wholeNumber(`${path}.steps`, t.steps, 1, 1e9);
    wholeNumber(`${path}.evalEvery`, t.evalEvery, 0, 1e9);
    wholeNumber(`${path}.evalBatches`, t.evalBatches, 0, 1e9);
    wholeNumber(`${path}.logEvery`, t.logEvery, 1, 1e9);
    wholeNumber(`${path}.checkpointEvery`, t.checkpointEvery, 0, 1e9);
    const o = object(`${path}.optimizer`, t.optimizer);
    oneOf(`${path}.optimizer.kind`, o.kind, ["adamw"] as const);
    finite(`${path}.optimizer.lr`, o.lr, { min: 0, max: 10 });
    finite(`${path}.optimizer.beta1`, o.beta1, { min: 0, below: 1 });
    finite(`${path}.optimizer.beta2`, o.beta2, { min: 0, below: 1 });
    finite(`${path}.optimizer.eps`, o.eps, { above: 0, below: 1 });
    finite(`${path}.optimizer.weightDecay`, o.weightDecay, { min: 0, max: 10 });
    finite(`${path}.optimizer.clip`, o.clip, { min: 0 });
    const s = object(`${path}.schedule`, t.schedule);
    oneOf(`${path}.schedule.kind`, s.kind, ["cosine", "constant"] as const);
    wholeNumber(`${path}.schedule.warmup`, s.warmup, 0);
    finite(`${path}.schedule.minLrRatio`, s.minLrRatio, { min: 0, max: 1 });
    wholeNumber(`${path}.seed`, t.seed, 0);
  });
}

export function isModelSpec(value: unknown): value is ModelSpec {
  return modelSpecProblem(value) === undefined;
}

export function isTrainSpec(value: unknown): value is TrainSpec {
  return trainSpecProblem(value) === undefined;
}
