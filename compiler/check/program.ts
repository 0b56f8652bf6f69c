// The whole program: every declaration of every loaded file in one namespace per kind, then
// each model, train and ablation checked and built.

import { suggestionHint, type DiagnosticSink } from "../diagnostics/diagnostic.js";
import type { ModelSpec, ProgramSpec } from "../spec.js";
import type { FileAst } from "../syntax/ast.js";
import { buildAblation } from "./ablation.js";
import { CheckContext, type Definitions, type ModelDecl } from "./context.js";
import { buildModel, modelSourceOf } from "./model.js";
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

/** Reports unknown parents and `extends` cycles; returns the models whose chain is sound. */
function checkInheritance(ctx: CheckContext): Set<string> {
  const sound = new Set<string>();
  for (const decl of ctx.definitions.models.values()) {
    const chain: string[] = [decl.name.name];
    let current: ModelDecl = decl;
    let ok = true;
    while (current.parent) {
      const parentName = current.parent.name;
      const parent = ctx.definitions.models.get(parentName);
      if (!parent) {
        const hint = suggestionHint(closestName(parentName, ctx.definitions.models.keys()));
        ctx.report("A0203", current.parent.span, { name: parentName, hint });
        ok = false;
        break;
      }
      if (chain.includes(parentName)) {
        if (current === decl || chain[0] === parentName)
          ctx.report("A0212", current.parent.span, {
            cycle: [...chain.slice(chain.indexOf(parentName)), parentName].join(" → "),
          });
        ok = false;
        break;
      }
      chain.push(parentName);
      current = parent;
    }
    if (ok) sound.add(decl.name.name);
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
