// The tokens of the .arch language. Keywords share the `Name` category with identifiers so that
// field and argument names may be keywords (`model: tiny` in a train, `attn(block = 8)`).

import type { TokenType } from "chevrotain";
import { chevrotain } from "./chevrotain.js";

const { createToken, Lexer } = chevrotain;

export const Name = createToken({ name: "Name", pattern: Lexer.NA, label: "a name" });
export const Identifier = createToken({
  name: "Identifier",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  categories: [Name],
  label: "a name",
});

function keyword(word: string, isName = true): TokenType {
  return createToken({
    name: word[0].toUpperCase() + word.slice(1),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories: isName ? [Name] : [],
    label: `'${word}'`,
  });
}

export const Import = keyword("import");
export const Block = keyword("block");
export const Model = keyword("model");
export const Extends = keyword("extends");
export const Train = keyword("train");
export const Ablation = keyword("ablation");
export const Of = keyword("of");
export const True = keyword("true", false);
export const False = keyword("false", false);

export const NumberLiteral = createToken({
  name: "NumberLiteral",
  pattern: /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/,
  label: "a number",
});
export const StringLiteral = createToken({
  name: "StringLiteral",
  pattern: /"(?:[^"\\\n\r]|\\.)*"/,
  label: "a string",
});

// Faults the lexer recognises so that they get a precise diagnostic instead of noise.
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /"(?:[^"\\\n\r]|\\.)*/,
  group: "faults",
});
export const UnterminatedComment = createToken({
  name: "UnterminatedComment",
  pattern: /\/\*[\s\S]*/,
  group: "faults",
  line_breaks: true,
});

export const BlockComment = createToken({
  name: "BlockComment",
  pattern: /\/\*[\s\S]*?\*\//,
  group: Lexer.SKIPPED,
  line_breaks: true,
});
export const LineComment = createToken({
  name: "LineComment",
  pattern: /\/\/[^\n\r]*/,
  group: Lexer.SKIPPED,
});
export const Whitespace = createToken({
  name: "Whitespace",
  pattern: /[ \t\r\n\f\v\u00a0\ufeff]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

function punctuation(name: string, text: string): TokenType {
  return createToken({ name, pattern: text, label: `'${text}'` });
}

export const LParen = punctuation("LParen", "(");
export const RParen = punctuation("RParen", ")");
export const LBrace = punctuation("LBrace", "{");
export const RBrace = punctuation("RBrace", "}");
export const LBracket = punctuation("LBracket", "[");
export const RBracket = punctuation("RBracket", "]");
export const Comma = punctuation("Comma", ",");
export const Colon = punctuation("Colon", ":");
export const Equals = punctuation("Equals", "=");
export const Dot = punctuation("Dot", ".");
export const Plus = punctuation("Plus", "+");
export const Minus = punctuation("Minus", "-");
export const Star = punctuation("Star", "*");
export const Slash = punctuation("Slash", "/");
export const Percent = punctuation("Percent", "%");

// Order matters: comments before '/', terminated forms before their unterminated fallbacks,
// keywords before identifiers.
export const ALL_TOKENS: TokenType[] = [
  Whitespace,
  BlockComment,
  UnterminatedComment,
  LineComment,
  StringLiteral,
  UnterminatedString,
  NumberLiteral,
  Import,
  Block,
  Model,
  Extends,
  Train,
  Ablation,
  Of,
  True,
  False,
  Identifier,
  Name,
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Equals,
  Dot,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
];

let lexer: InstanceType<typeof Lexer> | undefined;

export function archLexer(): InstanceType<typeof Lexer> {
  lexer ??= new Lexer(ALL_TOKENS, { positionTracking: "onlyOffset", ensureOptimizations: false });
  return lexer;
}
