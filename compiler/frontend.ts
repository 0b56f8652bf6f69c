// The front end's public face: .arch text in, a checked ProgramSpec and diagnostics out.
// User errors never throw; a throw from inside is a bug and is reported as one (A0901).

import { LookupError } from "./lookup-error.js";
import { DiagnosticSink, makeDiagnostic } from "./diagnostics/diagnostic.js";
import type { Diagnostic } from "./diagnostics/diagnostic.js";
import { formatDiagnosticList } from "./diagnostics/format.js";
import { FileLoader } from "./check/loader.js";
import { checkProgram } from "./check/program.js";
import { readSourceFile } from "./check/source-file.js";
import { closestName, resetSuggestionBudget } from "./check/suggest.js";
import type { ModelSpec, ProgramSpec } from "../format/spec.js";

export type { Diagnostic } from "./diagnostics/diagnostic.js";

export interface LoadResult {
  program: ProgramSpec;
  diagnostics: Diagnostic[];
  sources: Map<string, string>;
}

function emptyProgram(): ProgramSpec {
  return { models: new Map(), trains: new Map(), ablations: new Map() };
}

function load(roots: { file: string; text?: string }[], readFile: (path: string) => string): LoadResult {
  const sink = new DiagnosticSink();
  resetSuggestionBudget();
  const loader = new FileLoader(sink, readFile);
  let program = emptyProgram();
  try {
    for (const root of roots) loader.loadRoot(root.file, root.text);
    program = checkProgram(loader.result.asts, sink);
  } catch (err) {
    const message = err instanceof Error ? `${err.message}${err.stack ? `\n${err.stack}` : ""}` : String(err);
    const file = roots[0]?.file ?? "<input>";
    sink.add(makeDiagnostic("A0901", { file, line: 1, column: 1, offset: 0, length: 0 }, { message }));
    program = emptyProgram();
  }
  const result = { program, diagnostics: sink.list, sources: loader.result.sources };
  rootFiles.set(
    result,
    roots.map((r) => r.file),
  );
  return result;
}

/** The files a result was loaded from, as given: findModel prefers the last one's models. */
const rootFiles = new WeakMap<LoadResult, string[]>();

export function loadProgram(files: string[], opts?: { readFile?: (path: string) => string }): LoadResult {
  return load(
    files.map((file) => ({ file })),
    opts?.readFile ?? readSourceFile,
  );
}

export function loadSource(path: string, text: string): LoadResult {
  return load([{ file: path, text }], readSourceFile);
}

export function formatDiagnostics(result: LoadResult): string {
  return formatDiagnosticList(result.diagnostics, result.sources);
}

export function hasErrors(result: LoadResult): boolean {
  return result.diagnostics.some((d) => d.severity === "error");
}

/** The named model, or else the last model the last root file defines. */
export function findModel(result: LoadResult, name?: string): ModelSpec {
  const { models } = result.program;
  if (name !== undefined) {
    const model =
      models.get(name) ??
      [...result.program.ablations.values()]
        .flatMap((a) => a.variants.map((v) => v.model))
        .find((m) => m.name === name);
    if (model) return model;
    resetSuggestionBudget();
    const suggestion = closestName(name, models.keys());
    throw new LookupError(`no model named '${name}'${suggestion ? `; did you mean '${suggestion}'?` : ""}`);
  }
  const roots = rootFiles.get(result) ?? [...result.sources.keys()];
  const lastFile = roots[roots.length - 1];
  const all = [...models.values()];
  const own = all.filter((m) => m.span?.file === lastFile);
  const chosen = own[own.length - 1] ?? all[all.length - 1];
  if (!chosen)
    throw new LookupError(
      hasErrors(result) ? "no model could be checked without errors" : "the file defines no model",
    );
  return chosen;
}
