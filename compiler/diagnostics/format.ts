// Printing diagnostics the way compilers do: a location line, the source line, a caret line.

import type { Diagnostic } from "./diagnostic.js";

function lineBounds(text: string, offset: number): { start: number; end: number } {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  let end = text.indexOf("\n", offset);
  if (end === -1) end = text.length;
  if (end > start && text[end - 1] === "\r") end--;
  return { start, end };
}

/** Control characters would corrupt a terminal; show them as a visible placeholder of width one. */
function printable(line: string): string {
  return line.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "?");
}

const MAX_SHOWN = 160;

export function formatDiagnostic(diagnostic: Diagnostic, source: string | undefined): string {
  const { span } = diagnostic;
  const header = `${span.file}:${span.line}:${span.column}: ${diagnostic.severity} ${diagnostic.code}: ${diagnostic.message}`;
  const lines = [header];
  if (source !== undefined && span.offset <= source.length) {
    const { start, end } = lineBounds(source, span.offset);
    // very long lines (minified or generated input) are cut to a window around the span
    const windowStart = end - start > MAX_SHOWN ? Math.max(start, span.offset - 40) : start;
    const windowEnd = Math.min(end, windowStart + MAX_SHOWN);
    const line = source.slice(windowStart, windowEnd);
    const column = span.offset - windowStart;
    // keep tabs in the caret line so that it lines up under the source in any tab width
    const pad = line.slice(0, column).replace(/[^\t]/g, " ");
    const width = Math.max(1, Math.min(span.length, windowEnd - span.offset));
    lines.push(printable(line), pad + "^" + "~".repeat(width - 1));
  }
  for (const note of diagnostic.notes ?? []) lines.push(`  note: ${note}`);
  return lines.join("\n");
}

/** Diagnostics printed in full; the rest are counted, as compilers do, so a runaway input stays readable. */
export const MAX_PRINTED = 100;

export function formatDiagnosticList(diagnostics: Diagnostic[], sources: Map<string, string>): string {
  const shown = diagnostics.slice(0, MAX_PRINTED).map((d) => formatDiagnostic(d, sources.get(d.span.file)));
  const rest = diagnostics.slice(MAX_PRINTED);
  if (rest.length > 0) {
    // the sink's own "stopping after N" closes the list: it says more were not even collected
    const stopped = rest.find((d) => d.code === "A0107");
    const more = rest.length - (stopped ? 1 : 0);
    const errors = rest.filter((d) => d.severity === "error" && d !== stopped).length;
    shown.push(
      `... ${more} more diagnostic${more === 1 ? "" : "s"} not shown (${errors} error${errors === 1 ? "" : "s"}, ${more - errors} warning${more - errors === 1 ? "" : "s"})`,
    );
    if (stopped) shown.push(formatDiagnostic(stopped, sources.get(stopped.span.file)));
  }
  return shown.join("\n");
}
