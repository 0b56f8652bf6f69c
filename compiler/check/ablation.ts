// An `ablation NAME of BASE { ... }` → one ModelSpec per variant. Every model field whose value is
// a list is varied; the lists combine as a cross product (first field slowest) or, with
// `combine: zip`, position by position. A model field with a single value is a fixed override for
// every variant. `seeds`, `train`, `baseline` and `combine` are sweep settings, not model fields.
// Each variant is the base model with its fields replaced and everything that depends on them
// re-evaluated.

import { DiagnosticSink, suggestionHint, type Diagnostic } from "../diagnostics/diagnostic.js";
import type { AblationSpec, AblationVariant, ModelSpec, SourceSpan } from "../../format/spec.js";
import type { Expr, Field } from "../syntax/ast.js";
import { CheckContext, type AblationDecl, type ModelDecl } from "./context.js";
import { Evaluator, type Scope } from "./evaluate.js";
import {
  ancestry,
  buildModel,
  MODEL_FIELDS,
  mergeFields,
  type MergedField,
  type ModelSource,
} from "./model.js";
import { Reader } from "./read.js";
import { closestName } from "./suggest.js";
import { describeValue, printExpr, type Value } from "./values.js";

const SETTINGS = ["seeds", "train", "baseline", "combine"] as const;
type Setting = (typeof SETTINGS)[number];

/** A cross product grows fast; past this many variants the sweep is surely a mistake. */
export const MAX_VARIANTS = 1024;
/** Seeds per variant when given as a count; more would be a typo for a seed value. */
export const MAX_SEEDS = 1000;
const MAX_LISTED = 16;

/** One varied field and its values, in source order. */
interface Varied {
  field: Field;
  items: Expr[];
}

/** One combination of values, one per varied field, before its model is built. */
interface Combination {
  items: Expr[];
  label: string;
  values: Record<string, string>;
  modelName: string;
  /** where the combination is written: the value itself for one field, else the ablation's name */
  span: SourceSpan;
}

export function buildAblation(ctx: CheckContext, decl: AblationDecl): AblationSpec | undefined {
  const base = ctx.definitions.models.get(decl.base.name);
  if (!base) {
    ctx.report("A0203", decl.base.span, {
      name: decl.base.name,
      hint: suggestionHint(closestName(decl.base.name, ctx.definitions.models.keys())),
    });
    return undefined;
  }
  const { settings, modelFields } = splitFields(ctx, decl);

  // the shape of the sweep: when it is wrong there are no variants to build
  const shape = ctx.fork();
  const fields = knownFields(shape, base, modelFields);
  const varied = variedFields(shape, decl, fields);
  const combine = readCombine(shape, settings.get("combine"));
  const combinations =
    varied && combine && !shape.failed ? combinationsOf(shape, decl, varied, combine) : undefined;
  if (shape.failed) ctx.failed = true;

  // settings are read even when the shape is wrong: their errors are independent of it
  const seeds = readSeeds(ctx, settings.get("seeds"));
  const train = readTrain(ctx, settings.get("train"));
  if (!varied || !combinations || !combine) return undefined;
  const baseline = readBaseline(ctx, decl, settings.get("baseline"), combinations);

  const fixed = fields.filter((f) => f.value.kind !== "list");
  const variants = buildVariants(ctx, decl, base, varied, fixed, combinations);
  if (!variants || ctx.failed || seeds === undefined || baseline === undefined) return undefined;
  warnIdenticalVariants(ctx, decl, variants, combinations);
  return {
    name: decl.name.name,
    base: base.name.name,
    fields: varied.map((v) => v.field.name.name),
    combine,
    variants,
    seeds,
    train,
    baseline,
    span: decl.span,
  };
}

/** Sweep settings by name, and the model fields in source order; a name given twice is A0207. */
function splitFields(
  ctx: CheckContext,
  decl: AblationDecl,
): { settings: Map<Setting, Field>; modelFields: Field[] } {
  const settings = new Map<Setting, Field>();
  const modelFields: Field[] = [];
  const seen = new Set<string>();
  for (const field of decl.fields) {
    const name = field.name.name;
    if (seen.has(name)) {
      ctx.report("A0207", field.name.span, { name });
      continue;
    }
    seen.add(name);
    if ((SETTINGS as readonly string[]).includes(name)) settings.set(name as Setting, field);
    else modelFields.push(field);
  }
  return { settings, modelFields };
}

/** The fields the base model has or the compiler knows; any other is A0204, as in a model. */
function knownFields(ctx: CheckContext, base: ModelDecl, modelFields: Field[]): Field[] {
  const baseFields = mergeFields(ctx.fork(), ancestry(ctx, base));
  const names = [...baseFields.keys(), ...MODEL_FIELDS];
  return modelFields.filter((field) => {
    const name = field.name.name;
    if (names.includes(name)) return true;
    const hint = suggestionHint(closestName(name, [...names, ...SETTINGS]));
    ctx.report("A0204", field.name.span, { name, where: `model '${base.name.name}'`, hint });
    return false;
  });
}

/** The list-valued fields; at least one, and none empty. */
function variedFields(ctx: CheckContext, decl: AblationDecl, fields: Field[]): Varied[] | undefined {
  const varied: Varied[] = [];
  for (const field of fields) {
    if (field.value.kind !== "list") continue;
    if (field.value.items.length === 0) ctx.report("A0604", field.value.span);
    else varied.push({ field, items: field.value.items });
  }
  // a value the parser could not read was reported there; the sweep cannot be known without it
  if (fields.some((f) => f.value.kind === "missing")) ctx.failed = true;
  if (varied.length > 0) return varied;
  // an unknown or unreadable field may have been the varied one: saying none is varied would mislead
  if (ctx.failed || fields.some((f) => f.value.kind === "list")) return undefined;
  // an empty block keeps its old code; a block of settings or fixed values is missing its lists
  if (decl.fields.length > 0)
    ctx.report("A0602", fields[0]?.value.span ?? decl.name.span, { name: decl.name.name });
  else if (!decl.recovered) ctx.report("A0604", decl.name.span);
  return undefined;
}

function readCombine(ctx: CheckContext, field: Field | undefined): AblationSpec["combine"] | undefined {
  if (!field) return "cross";
  return new Reader(ctx).choice(evaluateSetting(ctx, field), "combine", ["cross", "zip"] as const);
}

function combinationsOf(
  ctx: CheckContext,
  decl: AblationDecl,
  varied: Varied[],
  combine: AblationSpec["combine"],
): Combination[] | undefined {
  const rows = combine === "zip" ? zipRows(ctx, varied) : crossRows(ctx, varied);
  if (!rows) return undefined;
  const combinations: Combination[] = [];
  const labels = new Set<string>();
  for (const items of rows) {
    const combination = describeCombination(decl, varied, items);
    // in a cross product a repeated value was already dropped from its list; zip repeats whole rows
    if (labels.has(combination.label)) {
      ctx.report("A0603", items[0].span, { text: combination.label });
      continue;
    }
    labels.add(combination.label);
    combinations.push(combination);
  }
  return combinations;
}

/** Every combination, the first field varying slowest; a value listed twice is dropped (A0603). */
function crossRows(ctx: CheckContext, varied: Varied[]): Expr[][] | undefined {
  const lists = varied.map((v) => distinctItems(ctx, v.items));
  const count = lists.reduce((n, list) => n * list.length, 1);
  if (count > MAX_VARIANTS) {
    ctx.report("A0611", varied[varied.length - 1].field.value.span, { count, max: MAX_VARIANTS });
    return undefined;
  }
  let rows: Expr[][] = [[]];
  for (const list of lists) rows = rows.flatMap((row) => list.map((item) => [...row, item]));
  return rows;
}

function distinctItems(ctx: CheckContext, items: Expr[]): Expr[] {
  const seen = new Set<string>();
  const distinct: Expr[] = [];
  for (const item of items) {
    const text = printExpr(item);
    if (seen.has(text)) ctx.report("A0603", item.span, { text });
    else distinct.push(item);
    seen.add(text);
  }
  return distinct;
}

/** The i-th values of every list together; the lists must be equally long (A0605). */
function zipRows(ctx: CheckContext, varied: Varied[]): Expr[][] | undefined {
  const [first] = varied;
  const uneven = varied.find((v) => v.items.length !== first.items.length);
  if (uneven) {
    ctx.report("A0605", uneven.field.value.span, {
      first: first.field.name.name,
      firstCount: first.items.length,
      second: uneven.field.name.name,
      secondCount: uneven.items.length,
    });
    return undefined;
  }
  if (first.items.length > MAX_VARIANTS) {
    ctx.report("A0611", first.field.value.span, { count: first.items.length, max: MAX_VARIANTS });
    return undefined;
  }
  return first.items.map((_, i) => varied.map((v) => v.items[i]));
}

/** Labels keep a one-field ablation's label the bare value, as it always was. */
function describeCombination(decl: AblationDecl, varied: Varied[], items: Expr[]): Combination {
  const values: Record<string, string> = {};
  varied.forEach((v, i) => (values[v.field.name.name] = printExpr(items[i])));
  const pairs = varied.map((v) => `${v.field.name.name}=${values[v.field.name.name]}`);
  const base = decl.base.name;
  if (varied.length === 1)
    return {
      items,
      label: values[varied[0].field.name.name],
      values,
      modelName: `${base}[${pairs[0]}]`,
      span: items[0].span,
    };
  return {
    items,
    label: pairs.join(", "),
    values,
    modelName: `${base}[${pairs.join(",")}]`,
    span: decl.name.span,
  };
}

/** A count n (the train block's seed and the n - 1 after it), or the seeds themselves. */
function readSeeds(ctx: CheckContext, field: Field | undefined): number | number[] | undefined {
  if (!field) return 1;
  const value = evaluateSetting(ctx, field);
  const reader = new Reader(ctx);
  if (value.kind === "number") return reader.integer(value, "seeds", { min: 1, max: MAX_SEEDS });
  if (value.kind === "error") return undefined;
  if (value.kind !== "list" || value.items.length === 0) {
    ctx.report("A0606", value.span, { actual: describeValue(value) });
    return undefined;
  }
  const seeds: number[] = [];
  let ok = true;
  for (const item of value.items) {
    const seed = reader.integer(item, "a seed", { min: 0, max: 1e9 });
    if (seed !== undefined && seeds.includes(seed)) ctx.report("A0607", item.span, { seed });
    if (seed === undefined || seeds.includes(seed)) ok = false;
    else seeds.push(seed);
  }
  return ok ? seeds : undefined;
}

function readTrain(ctx: CheckContext, field: Field | undefined): string | undefined {
  if (!field) return undefined;
  const value = evaluateSetting(ctx, field);
  if (value.kind === "error") return undefined;
  if (value.kind !== "symbol") {
    ctx.report("A0301", value.span, {
      what: "train",
      expected: "the name of a train block",
      actual: describeValue(value),
    });
    return undefined;
  }
  if (ctx.definitions.trains.has(value.name)) return value.name;
  const hint = suggestionHint(closestName(value.name, ctx.definitions.trains.keys()));
  ctx.report("A0608", value.span, { name: value.name, hint });
  return undefined;
}

/**
 * The baseline is written as its label: `baseline: attn(block = 2)` prints as the label
 * `attn(block=2)`; a label with several fields is written as a string, "depth=2, residual=add".
 */
function readBaseline(
  ctx: CheckContext,
  decl: AblationDecl,
  field: Field | undefined,
  combinations: Combination[],
): string | undefined {
  const labels = combinations.map((c) => c.label);
  if (!field) return labels[0];
  if (field.value.kind === "missing") return undefined;
  const text = printExpr(field.value);
  const candidates = field.value.kind === "string" ? [field.value.value, text] : [text];
  const match = candidates.find((c) => labels.includes(c));
  if (match !== undefined) return match;
  const hint = suggestionHint(closestName(candidates[0], labels));
  ctx.report("A0609", field.value.span, { text, name: decl.name.name, hint }, [listLabels(labels)]);
  return undefined;
}

/** A large cross product would bury the message under its labels; the first few show their form. */
function listLabels(labels: string[]): string {
  const shown = labels.slice(0, MAX_LISTED).join("; ");
  const rest = labels.length - MAX_LISTED;
  return `the variants are: ${shown}${rest > 0 ? `; and ${rest} more` : ""}`;
}

/** Settings are plain values: they see no model fields. */
function evaluateSetting(ctx: CheckContext, field: Field): Value {
  const empty: Scope = { lookup: () => undefined, names: () => [] };
  return new Evaluator(ctx, empty).evaluate(field.value);
}

/** Forwards every diagnostic to the program's sink with a note naming the variant it arose in. */
class VariantSink extends DiagnosticSink {
  constructor(
    private readonly target: DiagnosticSink,
    private readonly note: string,
  ) {
    super();
  }

  override add(diagnostic: Diagnostic): void {
    this.target.add({ ...diagnostic, notes: [...(diagnostic.notes ?? []), this.note] });
  }
}

function buildVariants(
  ctx: CheckContext,
  decl: AblationDecl,
  base: ModelDecl,
  varied: Varied[],
  fixed: Field[],
  combinations: Combination[],
): AblationVariant[] | undefined {
  const baseFields = mergeFields(ctx.fork(), ancestry(ctx, base));
  const variants: AblationVariant[] = [];
  for (const combination of combinations) {
    const note = `in variant ${combination.modelName} of ablation '${decl.name.name}'`;
    const variantCtx = new CheckContext(new VariantSink(ctx.sink, note), ctx.definitions);
    const source = variantSource(baseFields, varied, fixed, combination);
    const model = buildModel(variantCtx, source);
    if (variantCtx.failed || !model) ctx.failed = true;
    else variants.push({ label: combination.label, values: combination.values, model });
  }
  return ctx.failed ? undefined : variants;
}

/** The base model's fields with the fixed overrides, then this combination's values, written over them. */
function variantSource(
  baseFields: Map<string, MergedField>,
  varied: Varied[],
  fixed: Field[],
  combination: Combination,
): ModelSource {
  const name = combination.modelName;
  const fields = new Map(baseFields);
  const set = (field: Field, value: Expr) =>
    fields.set(field.name.name, { name: field.name.name, nameSpan: field.name.span, value, owner: name });
  for (const field of fixed) set(field, field.value);
  varied.forEach((v, i) => set(v.field, combination.items[i]));
  return { name, nameSpan: combination.span, fields, recovered: false, span: combination.span };
}

/** The architecture a variant builds: its name, span and helper values do not change what is trained. */
function architectureKey(model: ModelSpec): string {
  const { name: _name, span: _span, fields: _fields, ...architecture } = model;
  return JSON.stringify(architecture);
}

/**
 * Two variants that build the same model measure nothing, usually because a varied field is a
 * helper nothing reads. A warning, not an error: crossing e.g. `residual: [add, attn]` with an
 * attn-only setting makes the `add` rows equal by design.
 */
function warnIdenticalVariants(
  ctx: CheckContext,
  decl: AblationDecl,
  variants: AblationVariant[],
  combinations: Combination[],
): void {
  const firstWith = new Map<string, number>();
  variants.forEach((variant, i) => {
    const key = architectureKey(variant.model);
    const first = firstWith.get(key);
    if (first === undefined) {
      firstWith.set(key, i);
      return;
    }
    // the later variant's first value that differs from the earlier one is what changed nothing
    const later = combinations[i].items;
    const differs = later.findIndex((item, f) => printExpr(item) !== printExpr(combinations[first].items[f]));
    // reported through the sink directly: CheckContext.report would fail the ablation over a warning
    ctx.sink.report("A0610", later[Math.max(0, differs)].span, {
      first: variants[first].label,
      second: variant.label,
      name: decl.name.name,
    });
  });
}
