// Compiled by test/diagnostic-params.test.ts: each @ts-expect-error must be an error, so a call
// that leaves out a template's parameter (and would print a raw `{name}`) cannot compile.
import { makeDiagnostic } from "../../compiler/diagnostics/diagnostic.js";
import type { SourceSpan } from "../../format/spec.js";

declare const span: SourceSpan;

makeDiagnostic("A0110", span); // "the file defines nothing": no parameters
makeDiagnostic("A0201", span, { name: "x", hint: "" }, ["a note"]);
// @ts-expect-error a placeholder ({name}) is missing
makeDiagnostic("A0201", span, { hint: "" });
// @ts-expect-error no parameters for a template that has two
makeDiagnostic("A0201", span);
// @ts-expect-error a parameter its template does not have
makeDiagnostic("A0201", span, { name: "x", hint: "", extra: 1 });
// @ts-expect-error parameters for a template with none
makeDiagnostic("A0110", span, { name: "x" });
