// Text → AST with diagnostics: lexing, guards against hostile input, parsing with recovery.

import type { IToken } from "chevrotain";
import { DiagnosticSink } from "../diagnostics/diagnostic.js";
import type { FileAst } from "./ast.js";
import { archParser } from "./parser.js";
import { SourceText } from "./source.js";
import {
  archLexer,
  LBracket,
  LParen,
  RBracket,
  RParen,
  UnterminatedComment,
  UnterminatedString,
} from "./tokens.js";
import { AstBuilder } from "./visitor.js";

/** Deeper bracket nesting than this is refused before parsing: the parser recurses per level. */
export const MAX_NESTING = 64;

/**
 * More tokens than this is refused before parsing: parsing and building the tree take about 10 µs a
 * token, and honest files hold a few thousand (the standard library a few hundred).
 */
export const MAX_TOKENS = 1 << 17;

function describeCharacter(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return code >= 0x20 && code !== 0x7f ? `'${char}' (${hex})` : hex;
}

function nestingViolation(tokens: IToken[]): IToken | undefined {
  let depth = 0;
  for (const token of tokens) {
    if (token.tokenType === LParen || token.tokenType === LBracket) {
      if (++depth > MAX_NESTING) return token;
    } else if (token.tokenType === RParen || token.tokenType === RBracket) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

export function parseSource(file: string, text: string, sink: DiagnosticSink): FileAst {
  const source = new SourceText(file, text);
  const empty: FileAst = { file, declarations: [] };

  const nul = text.indexOf("\u0000");
  if (nul !== -1) {
    sink.report("A0108", source.span(nul, nul + 1));
    return empty;
  }

  const lexed = archLexer().tokenize(text);
  for (const error of lexed.errors) {
    const span = source.span(error.offset, error.offset + Math.max(1, error.length));
    const first = String.fromCodePoint(text.codePointAt(error.offset) ?? 0xfffd);
    const text_ =
      error.length > first.length
        ? `${describeCharacter(first)} (and ${error.length - first.length} more)`
        : describeCharacter(first);
    sink.report("A0101", span, { text: text_ });
  }
  for (const fault of lexed.groups.faults ?? []) {
    const code =
      fault.tokenType === UnterminatedString
        ? "A0102"
        : fault.tokenType === UnterminatedComment
          ? "A0103"
          : undefined;
    if (code)
      sink.report(
        code,
        source.span(
          fault.startOffset,
          fault.startOffset + (fault.tokenType === UnterminatedComment ? 2 : fault.image.length),
        ),
      );
  }

  if (lexed.tokens.length === 0 && lexed.errors.length === 0 && (lexed.groups.faults ?? []).length === 0) {
    sink.report("A0110", source.span(0, 0));
    return empty;
  }

  if (lexed.tokens.length > MAX_TOKENS) {
    const first = lexed.tokens[MAX_TOKENS];
    sink.report("A0111", source.span(first.startOffset, first.startOffset + first.image.length), {
      limit: MAX_TOKENS,
    });
    return empty;
  }

  const tooDeep = nestingViolation(lexed.tokens);
  if (tooDeep) {
    sink.report("A0105", source.span(tooDeep.startOffset, tooDeep.startOffset + 1), { limit: MAX_NESTING });
    return empty;
  }

  const parser = archParser();
  parser.input = lexed.tokens;
  const cst = parser.program();
  for (const error of parser.errors) {
    const token = error.token;
    const span = Number.isFinite(token.startOffset)
      ? source.span(token.startOffset, token.startOffset + token.image.length)
      : source.endSpan();
    sink.report("A0106", span, { detail: error.message });
  }
  return { file, declarations: new AstBuilder(source, sink).program(cst) };
}
