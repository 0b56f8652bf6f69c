// Building diagnostics from catalog entries, and the sink the checker reports into.

import type { SourceSpan } from "../../format/spec.js";
import { CATALOG, type DiagnosticArgs, type DiagnosticCode } from "./catalog.js";

export interface Diagnostic {
  code: string;
  severity: "error" | "warning";
  message: string;
  span: SourceSpan;
  notes?: string[];
}

export type MessageParams = Record<string, string | number>;

export function renderTemplate(template: string, params: MessageParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in params ? String(params[key]) : whole,
  );
}

export function makeDiagnostic<C extends DiagnosticCode>(
  code: C,
  span: SourceSpan,
  ...[params = {}, notes]: DiagnosticArgs<C>
): Diagnostic {
  const entry = CATALOG[code];
  const diagnostic: Diagnostic = {
    code,
    severity: entry.severity,
    message: renderTemplate(entry.template, params),
    span,
  };
  if (notes && notes.length > 0) diagnostic.notes = notes;
  return diagnostic;
}

/** Past this many, a runaway input (binary noise, a mangled file) gets one closing diagnostic instead. */
export const MAX_DIAGNOSTICS = 200;

/**
 * Collects diagnostics, dropping exact repeats: a shared expression evaluated for several
 * layers or several child models would otherwise report the same fault many times.
 */
export class DiagnosticSink {
  readonly list: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  private capped = false;

  report<C extends DiagnosticCode>(code: C, span: SourceSpan, ...args: DiagnosticArgs<C>): void {
    this.add(makeDiagnostic(code, span, ...args));
  }

  add(diagnostic: Diagnostic): void {
    const key = `${diagnostic.code}|${diagnostic.span.file}|${diagnostic.span.offset}|${diagnostic.span.length}|${diagnostic.message}`;
    if (this.seen.has(key) || this.capped) return;
    this.seen.add(key);
    if (this.list.length >= MAX_DIAGNOSTICS) {
      this.capped = true;
      this.list.push(makeDiagnostic("A0107", diagnostic.span, { count: MAX_DIAGNOSTICS }));
      return;
    }
    this.list.push(diagnostic);
  }

  get errorCount(): number {
    return this.list.filter((d) => d.severity === "error").length;
  }
}

/** " (did you mean 'x'?)" or nothing: appended to unknown-name messages. */
export function suggestionHint(suggestion: string | undefined): string {
  return suggestion === undefined ? "" : `; did you mean '${suggestion}'?`;
}
