// The whole program: every declaration of every loaded file in one namespace per kind, then
// each model, train and ablation checked and built.

import { suggestionHint, type DiagnosticSink } from "../diagnostics/diagnostic.js";
import type { ModelSpec, ProgramSpec } from "../../format/spec.js";
import type { FileAst } from "../syntax/ast.js";
import { buildAblation } from "./ablation.js";
import { CheckContext, MAX_DEFINITION_DEPTH, type Definitions, type ModelDecl } from "./context.js";
import { buildModel, MAX_MODEL_FIELDS, MAX_PROGRAM_FIELDS, modelSourceOf } from "./model.js";
import { describeCycleOf } from "./values.js";
import { closestName } from "./suggest.js";
import { buildTrain } from "./train.js";

function where(span: { file: string; line: number; column: number }): string {
  return `${span.file}:${span.line}:${span.column}`;
}

export function collectDefinitions(asts: FileAst[], sink: DiagnosticSink): Definitions {
  const definitions: Definitions = {
    blocks: new Map(),
    models: new Map(),
    trains: new Map(),
    ablations: new Map(),
    fieldBudget: { left: MAX_PROGRAM_FIELDS },
  };
  for (const ast of asts)
    for (const decl of ast.declarations) {
      if (decl.kind === "import") continue;
      const table = {
        block: definitions.blocks,
        model: definitions.models,
        train: definitions.trains,
        ablation: definitions.ablations,
      }[decl.kind] as Map<string, typeof decl>;
      const first = table.get(decl.name.name);
      if (first) {
        sink.report("A0206", decl.name.span, { kind: decl.kind, name: decl.name.name }, [
          `first defined at ${where(first.name.span)}`,
        ]);
        continue;
      }
      table.set(decl.name.name, decl);
      if (decl.kind === "block") {
        const params = new Set<string>();
        for (const param of decl.params) {
          if (params.has(param.name.name)) sink.report("A0220", param.name.span, { name: param.name.name });
          params.add(param.name.name);
        }
      }
    }
  return definitions;
}

type Ancestry = { ok: true; depth: number; fields: number } | { ok: false };
const BROKEN: Ancestry = { ok: false };

/**
 * Reports unknown parents, `extends` cycles, chains deeper than MAX_DEFINITION_DEPTH (A0222) and
 * models with more than MAX_MODEL_FIELDS fields counting inherited ones (A0223); returns the models
 * whose chain is sound. Each model's chain is walked once: what is known of a parent is kept.
 */
function checkInheritance(ctx: CheckContext): Set<string> {
  const { models } = ctx.definitions;
  const known = new Map<string, Ancestry>();
  /** A0212 for each member of a cycle, reported when that member's turn comes, as it always was */
  const cycleReports = new Map<ModelDecl, () => void>();

  const resolve = (start: ModelDecl): void => {
    const path: ModelDecl[] = [];
    const onPath = new Map<string, number>();
    let below: Ancestry;
    for (let current = start; ;) {
      onPath.set(current.name.name, path.length);
      path.push(current);
      if (!current.parent) {
        below = { ok: true, depth: -1, fields: 0 };
        break;
      }
      const parentName = current.parent.name;
      const done = known.get(parentName);
      if (done) {
        below = done;
        break;
      }
      const parent = models.get(parentName);
      if (!parent) {
        const hint = suggestionHint(closestName(parentName, models.keys()));
        ctx.report("A0203", current.parent.span, { name: parentName, hint });
        below = BROKEN;
        break;
      }
      const at = onPath.get(parentName);
      if (at !== undefined) {
        const members = path.slice(at);
        members.forEach((member, j) => {
          const closer = members[(j + members.length - 1) % members.length];
          cycleReports.set(member, () =>
            ctx.report("A0212", closer.parent!.span, {
              cycle: describeCycleOf(members.length + 1, (i) => members[(j + i) % members.length].name.name),
            }),
          );
        });
        below = BROKEN;
        break;
      }
      current = parent;
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const model = path[i];
      if (below.ok) {
        const depth = below.depth + 1;
        const fields = below.fields + model.fields.length;
        if (depth > MAX_DEFINITION_DEPTH) {
          ctx.report("A0222", model.parent!.span, {
            limit: MAX_DEFINITION_DEPTH,
            what: "model",
            name: model.name.name,
          });
          below = BROKEN;
        } else if (fields > MAX_MODEL_FIELDS) {
          ctx.report("A0223", model.name.span, {
            name: model.name.name,
            count: fields,
            max: MAX_MODEL_FIELDS,
          });
          below = BROKEN;
        } else below = { ok: true, depth, fields };
      }
      known.set(model.name.name, below);
    }
  };

  const sound = new Set<string>();
  for (const decl of models.values()) {
    if (!known.has(decl.name.name)) resolve(decl);
    cycleReports.get(decl)?.();
    if (known.get(decl.name.name)?.ok) sound.add(decl.name.name);
  }
  return sound;
}

export function checkProgram(asts: FileAst[], sink: DiagnosticSink): ProgramSpec {
  const definitions = collectDefinitions(asts, sink);
  const root = new CheckContext(sink, definitions);
  const program: ProgramSpec = { models: new Map(), trains: new Map(), ablations: new Map() };
  const sound = checkInheritance(root);

  for (const decl of definitions.models.values()) {
    if (!sound.has(decl.name.name)) continue;
    const ctx = root.fork();
    const model: ModelSpec | undefined = buildModel(ctx, modelSourceOf(ctx, decl));
    if (model && !ctx.failed) program.models.set(model.name, model);
  }
  for (const decl of definitions.trains.values()) {
    const ctx = root.fork();
    const train = buildTrain(ctx, decl, program.models);
    if (train && !ctx.failed) program.trains.set(train.name, train);
  }
  for (const decl of definitions.ablations.values()) {
    if (!sound.has(decl.base.name) && definitions.models.has(decl.base.name)) continue;
    const ctx = root.fork();
    const ablation = buildAblation(ctx, decl);
    if (ablation && !ctx.failed) program.ablations.set(ablation.name, ablation);
  }
  return program;
}
