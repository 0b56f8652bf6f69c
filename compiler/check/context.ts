// What every checking step shares: the diagnostics sink, the program's definitions, and a flag
// saying whether the current evaluation (one model, one train) has gone wrong.

import type { DiagnosticArgs, DiagnosticCode } from "../diagnostics/catalog.js";
import type { DiagnosticSink } from "../diagnostics/diagnostic.js";
import type { SourceSpan } from "../../format/spec.js";
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
  /** fields still to be checked across the program (MAX_PROGRAM_FIELDS); shared by every context */
  fieldBudget?: { left: number };
}

/**
 * Longest chain of definitions resolved through one another: a field defined by a field, a
 * parameter default by the one before, a block calling a block, a model extending a model. Honest
 * programs stay under ten; checking resolves chains by recursion, so a hostile one must stop here.
 */
export const MAX_DEFINITION_DEPTH = 256;
/**
 * Definition links and bracket levels (calls, lists) being evaluated at once: a chain of 256
 * definitions each nested 64 deep would otherwise still exhaust the stack.
 */
export const MAX_EVALUATION_NESTING = 1024;

export class CheckContext {
  /** set by any error reported through this context; a failed model is left out of the program */
  failed = false;
  /** definitions being resolved through one another right now (MAX_DEFINITION_DEPTH) */
  private depth = 0;
  /** definition links and bracket levels being evaluated right now (MAX_EVALUATION_NESTING) */
  private nesting = 0;

  constructor(
    readonly sink: DiagnosticSink,
    readonly definitions: Definitions,
  ) {}

  report<C extends DiagnosticCode>(code: C, span: SourceSpan, ...args: DiagnosticArgs<C>): void {
    this.sink.report(code, span, ...args);
    if (code !== "A0219" && code !== "A0603") this.failed = true;
  }

  /**
   * Enters one more link of a definition chain; false (after reporting A0222 at `at`) when the
   * chain is already MAX_DEFINITION_DEPTH deep. Every true must be matched by leave().
   */
  enter(at: SourceSpan, what: string, name: string): boolean {
    if (this.depth >= MAX_DEFINITION_DEPTH) {
      this.report("A0222", at, { limit: MAX_DEFINITION_DEPTH, what, name });
      return false;
    }
    if (!this.enterNesting(at)) return false;
    this.depth++;
    return true;
  }

  leave(): void {
    this.depth--;
    this.leaveNesting();
  }

  /** One more bracket level being evaluated; false after A0225 when too many are open at once. */
  enterNesting(at: SourceSpan): boolean {
    if (this.nesting >= MAX_EVALUATION_NESTING) {
      this.report("A0225", at, { limit: MAX_EVALUATION_NESTING });
      return false;
    }
    this.nesting++;
    return true;
  }

  leaveNesting(): void {
    this.nesting--;
  }

  /** A fresh context for one model or train, sharing the sink and definitions. */
  fork(): CheckContext {
    return new CheckContext(this.sink, this.definitions);
  }
}
