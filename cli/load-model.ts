// Shared by `archc ir` and `archc inspect`: load .arch files, pick one model, and read the
// --batch/--seq flags. Front-end diagnostics go to stderr and become exit code 1.

import type { ModelSpec } from "../format/spec.js";
import { existsSync } from "node:fs";
import { shapeProblem } from "../compiler/check/limits.js";
import { EXIT, UserError } from "./common.js";

export async function loadModel(file: string, modelName: string | undefined): Promise<ModelSpec> {
  const { sourceFileProblem } = await import("../compiler/check/source-file.js");
  if (!existsSync(file)) throw new UserError(`no such file: ${file}`);
  const problem = sourceFileProblem(file);
  if (problem) throw new UserError(`cannot read ${file}: ${problem}`);
  const { findModel, formatDiagnostics, hasErrors, loadProgram } = await import("../compiler/frontend.js");
  const result = loadProgram([file]);
  const text = formatDiagnostics(result);
  if (hasErrors(result)) throw new UserError(text.trimEnd());
  // warnings are shown but do not stop the command
  if (text.trim().length > 0) process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
  return findModel(result, modelName);
}

export function positiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new UserError(`${flag} must be a positive integer, got '${value}'`, EXIT.usage);
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
  if (seq > model.context)
    throw new UserError(`--seq ${seq} exceeds model ${model.name}'s context ${model.context}`, EXIT.usage);
  const problem = shapeProblem(model, batch, seq);
  if (problem)
    throw new UserError(`model ${model.name} cannot run at --batch ${batch} --seq ${seq}: ${problem}`);
  return { batch, seq };
}
