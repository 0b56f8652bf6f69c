// An `ablation NAME of BASE { field: [v1, v2, ...] }` → one ModelSpec per value, each the base
// model with that one field replaced and everything that depends on it re-evaluated.

import { suggestionHint } from "../diagnostics/diagnostic.js";
import type { AblationSpec } from "../spec.js";
import type { AblationDecl, CheckContext } from "./context.js";
import { ancestry, buildModel, MODEL_FIELDS, mergeFields, variantSource } from "./model.js";
import { closestName } from "./suggest.js";
import { printExpr } from "./values.js";

export function buildAblation(ctx: CheckContext, decl: AblationDecl): AblationSpec | undefined {
  const baseName = decl.base.name;
  const base = ctx.definitions.models.get(baseName);
  if (!base) {
    ctx.report("A0203", decl.base.span, {
      name: baseName,
      hint: suggestionHint(closestName(baseName, ctx.definitions.models.keys())),
    });
    return undefined;
  }
  if (decl.fields.length !== 1) {
    if (decl.fields.length === 0) {
      if (!decl.recovered) ctx.report("A0604", decl.name.span);
    } else ctx.report("A0601", decl.fields[1].name.span, { name: decl.name.name, count: decl.fields.length });
    return undefined;
  }
  const [field] = decl.fields;
  const baseFields = mergeFields(ctx.fork(), ancestry(ctx, base));
  if (!baseFields.has(field.name.name) && !(MODEL_FIELDS as readonly string[]).includes(field.name.name)) {
    const hint = suggestionHint(closestName(field.name.name, [...baseFields.keys(), ...MODEL_FIELDS]));
    ctx.report("A0204", field.name.span, { name: field.name.name, where: `model '${baseName}'`, hint });
    return undefined;
  }
  if (field.value.kind !== "list") {
    if (field.value.kind !== "missing") ctx.report("A0602", field.value.span);
    return undefined;
  }
  if (field.value.items.length === 0) {
    ctx.report("A0604", field.value.span);
    return undefined;
  }
  const variants: AblationSpec["variants"] = [];
  const labels = new Set<string>();
  let complete = true;
  for (const item of field.value.items) {
    const label = printExpr(item);
    if (labels.has(label)) {
      ctx.report("A0603", item.span, { text: label });
      continue;
    }
    labels.add(label);
    const name = `${baseName}[${field.name.name}=${label}]`;
    const variantCtx = ctx.fork();
    const model = buildModel(variantCtx, variantSource(ctx, base, name, field.name, item, item.span));
    if (variantCtx.failed || !model) {
      complete = false;
      ctx.failed = true;
      continue;
    }
    variants.push({ label, model });
  }
  if (!complete) return undefined;
  return { name: decl.name.name, base: baseName, field: field.name.name, variants, span: decl.span };
}
