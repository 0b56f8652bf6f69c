// Shared by `archc ir` and `archc inspect`: load .arch files, pick one model, and read the
// --batch/--seq flags. Front-end diagnostics go to stderr and become exit code 1.

import type { Diagnostic } from "../compiler/diagnostics/diagnostic.js";
import type { ModelSpec, ProgramSpec } from "../compiler/spec.js";
import { UserError } from "./common.js";

/** the documented API of compiler/frontend.ts */
interface LoadResult {
  program: ProgramSpec;
  diagnostics: Diagnostic[];
  sources: Map<string, string>;
}
interface FrontendApi {
  loadProgram(files: string[]): LoadResult;
  formatDiagnostics(result: LoadResult): string;
  findModel(result: LoadResult, name?: string): ModelSpec;
}

// A computed specifier keeps this module compiling while the front end is written in parallel.
const FRONTEND_MODULE = "../compiler/frontend.js";

async function frontend(): Promise<FrontendApi> {
  try {
    return (await import(FRONTEND_MODULE)) as FrontendApi;
  } catch (err) {
    throw new Error(`the front end (compiler/frontend.ts) could not be loaded: ${(err as Error).message}`);
  }
}

export async function loadModel(file: string, modelName: string | undefined): Promise<ModelSpec> {
  const api = await frontend();
  const result = api.loadProgram([file]);
  const text = api.formatDiagnostics(result);
  if (result.diagnostics.some((d) => d.severity === "error")) throw new UserError(text.trimEnd());
  if (text.trim().length > 0) process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
  return api.findModel(result, modelName);
}

export function positiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new UserError(`${flag} must be a positive integer, got '${value}'`);
  return n;
}

export interface ShapeFlags {
  batch?: string;
  seq?: string;
}

/** batch defaults to 1 and seq to the model's context */
export function graphShape(model: ModelSpec, flags: ShapeFlags): { batch: number; seq: number } {
  const batch = flags.batch === undefined ? 1 : positiveInteger(flags.batch, "--batch");
  const seq = flags.seq === undefined ? model.context : positiveInteger(flags.seq, "--seq");
  if (seq > model.context) throw new UserError(`--seq ${seq} exceeds model ${model.name}'s context ${model.context}`);
  return { batch, seq };
}
