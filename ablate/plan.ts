// What an ablation sweep will run: the train block every variant runs under, the seeds, and one run
// folder per variant and seed. The plan is pure: it reads the checked program and touches no file.

import { graphFlops } from "../compiler/analysis/cost.js";
import { lowerModel } from "../compiler/ir/lower.js";
import type { AblationSpec, AblationVariant, ModelSpec, ProgramSpec, TrainSpec } from "../format/spec.js";
import { defaultTrainSpec } from "../runtime/train/defaults.js";

/** token ids each tokenizer produces, so a variant whose vocabulary is too small is refused before training */
const TOKENIZER_VOCAB: Record<string, number> = { bytes: 256, gpt2: 50257 };

/** A problem with the sweep the user asked for: said plainly, no stack. */
export class SweepError extends Error {}

export interface PlannedVariant {
  index: number;
  label: string;
  values: Record<string, string>;
  model: ModelSpec;
  /** folder under the sweep folder: "2-attn_block_2" */
  dir: string;
  /** training FLOPs of one optimizer step: 3x the forward pass (forward, and backward at twice it) */
  flopsPerStep: number;
  parameters: number;
  /** JSON of the model without its name: two sweeps that agree on it train the same architecture */
  fingerprint: string;
}

export interface PlannedRun {
  variant: PlannedVariant;
  seed: number;
  /** relative to the sweep folder: "2-attn_block_2/seed-1" */
  dir: string;
  train: TrainSpec;
}

export interface SweepPlan {
  ablation: AblationSpec;
  /** the train block's settings, shared by every run except for model and seed */
  train: TrainSpec;
  seeds: number[];
  variants: PlannedVariant[];
  runs: PlannedRun[];
}

export interface PlanOptions {
  steps?: number;
  /** labels of the variants to run; the baseline is always kept, so there is something to compare with */
  only?: string[];
}

/** The train block: the ablation's `train:`, else the only one that trains the base, else the only one. */
function chooseTrain(program: ProgramSpec, ablation: AblationSpec): TrainSpec {
  if (ablation.train !== undefined) {
    const named = program.trains.get(ablation.train);
    if (!named)
      throw new SweepError(
        `ablation ${ablation.name} names train block '${ablation.train}', which does not exist`,
      );
    return named;
  }
  const trains = [...program.trains.values()];
  const ofBase = trains.filter((t) => t.model === ablation.base);
  if (ofBase.length === 1) return ofBase[0];
  if (trains.length === 1) return trains[0];
  if (trains.length > 1)
    throw new SweepError(
      `ablation ${ablation.name}: the file has several train blocks (${trains.map((t) => t.name).join(", ")}); ` +
        `name one with 'train: NAME' in the ablation`,
    );
  const base = program.models.get(ablation.base);
  if (!base) throw new SweepError(`ablation ${ablation.name}: no model '${ablation.base}'`);
  return defaultTrainSpec(base);
}

function seedList(ablation: AblationSpec, train: TrainSpec): number[] {
  const { seeds } = ablation;
  return typeof seeds === "number" ? Array.from({ length: seeds }, (_, i) => train.seed + i) : [...seeds];
}

/** a folder name from a label: "attn(block=2)" -> "attn_block_2", never empty, never hidden */
export function slug(label: string): string {
  const cleaned = label
    .replace(/[^A-Za-z0-9.-]+/g, "_")
    .replace(/^[_.]+|_+$/g, "")
    .slice(0, 60);
  return cleaned.length > 0 ? cleaned : "variant";
}

/** the architecture alone: not its name, where it was written, or helper values nothing reads */
export function modelFingerprint(model: ModelSpec): string {
  const { name: _name, span: _span, fields: _fields, ...rest } = model;
  return JSON.stringify(rest);
}

function planVariant(variant: AblationVariant, index: number, train: TrainSpec): PlannedVariant {
  const forward = lowerModel(variant.model, { batch: train.batch, seq: train.seq });
  const flops = graphFlops(forward);
  const forwardFlops = flops.matmul + flops.attention + flops.attnres;
  return {
    index,
    label: variant.label,
    values: variant.values,
    model: variant.model,
    dir: `${index + 1}-${slug(variant.label)}`,
    flopsPerStep: 3 * forwardFlops,
    parameters: forward.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0),
    fingerprint: modelFingerprint(variant.model),
  };
}

export function planSweep(
  program: ProgramSpec,
  ablation: AblationSpec,
  options: PlanOptions = {},
): SweepPlan {
  const chosen = chooseTrain(program, ablation);
  const train: TrainSpec = { ...chosen, ...(options.steps === undefined ? {} : { steps: options.steps }) };
  const tokenizerVocab = TOKENIZER_VOCAB[train.tokenizer];
  for (const variant of ablation.variants) {
    if (tokenizerVocab !== undefined && variant.model.vocab < tokenizerVocab)
      throw new SweepError(
        `variant ${variant.label}: vocab ${variant.model.vocab} is smaller than the ${tokenizerVocab} tokens of the ${train.tokenizer} tokenizer`,
      );
    if (train.seq > variant.model.context)
      throw new SweepError(
        `variant ${variant.label}: train block ${train.name} has seq ${train.seq}, over the model's context ${variant.model.context}`,
      );
  }
  const labels = ablation.variants.map((v) => v.label);
  for (const wanted of options.only ?? [])
    if (!labels.includes(wanted))
      throw new SweepError(
        `--only ${wanted}: ablation ${ablation.name} has no such variant (it has: ${labels.join(", ")})`,
      );
  const seeds = seedList(ablation, train);
  const variants = ablation.variants.map((v, i) => planVariant(v, i, train));
  const selected = variants.filter(
    (v) => !options.only || options.only.includes(v.label) || v.label === ablation.baseline,
  );
  const runs = selected.flatMap((variant) =>
    seeds.map((seed) => ({
      variant,
      seed,
      dir: `${variant.dir}/seed-${seed}`,
      train: { ...train, model: variant.model.name, seed },
    })),
  );
  return { ablation, train, seeds, variants, runs };
}
