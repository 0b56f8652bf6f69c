// What every checking step shares: the diagnostics sink, the program's definitions, and a flag
// saying whether the current evaluation (one model, one train) has gone wrong.

import type { DiagnosticCode } from "../diagnostics/catalog.js";
import type { DiagnosticSink, MessageParams } from "../diagnostics/diagnostic.js";
import type { SourceSpan } from "../spec.js";
import type { Declaration } from "../syntax/ast.js";

export type BlockDecl = Extract<Declaration, { kind: "block" }>;
export type ModelDecl = Extract<Declaration, { kind: "model" }>;
export type TrainDecl = Extract<Declaration, { kind: "train" }>;
export type AblationDecl = Extract<Declaration, { kind: "ablation" }>;

export interface Definitions {
  blocks: Map<string, BlockDecl>;
  models: Map<string, ModelDecl>;
  trains: Map<string, TrainDecl>;
  ablations: Map<string, AblationDecl>;
}

export class CheckContext {
  /** set by any error reported through this context; a failed model is left out of the program */
  failed = false;

  constructor(
    readonly sink: DiagnosticSink,
    readonly definitions: Definitions,
  ) {}

  report(code: DiagnosticCode, span: SourceSpan, params: MessageParams = {}, notes?: string[]): void {
    this.sink.report(code, span, params, notes);
    if (code !== "A0219" && code !== "A0603") this.failed = true;
  }

  /** A fresh context for one model or train, sharing the sink and definitions. */
  fork(): CheckContext {
    return new CheckContext(this.sink, this.definitions);
  }
}
