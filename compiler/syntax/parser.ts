// The .arch grammar as a Chevrotain CstParser: it builds a concrete syntax tree and nothing else
// (no embedded actions); visitor.ts turns the tree into the AST. Error recovery is on, so one
// parse reports every syntax error in a file. grammar.md documents each rule by its name here.

import type { CstNode, IParserErrorMessageProvider, IToken, TokenType } from "chevrotain";
import { chevrotain } from "./chevrotain.js";
import * as T from "./tokens.js";

function describeToken(token: IToken): string {
  return token.tokenType === undefined || token.image === "" ? "the end of the file" : `'${token.image}'`;
}

function labelOf(type: TokenType): string {
  if (type.name === "EOF") return RULE_PURPOSE.declaration;
  return type.LABEL ?? type.name;
}

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) =>
    `expected ${labelOf(expected)} but found ${describeToken(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) =>
    `expected a declaration (import, block, model, train or ablation) but found ${describeToken(firstRedundant)}`,
  buildNoViableAltMessage: ({ actual, ruleName }) =>
    `expected ${RULE_PURPOSE[ruleName] ?? ruleName} but found ${describeToken(actual[0])}`,
  buildEarlyExitMessage: ({ actual, ruleName }) =>
    `expected ${RULE_PURPOSE[ruleName] ?? ruleName} but found ${describeToken(actual[0])}`,
};

const RULE_PURPOSE: Record<string, string> = {
  declaration: "a declaration (import, block, model, train or ablation)",
  importDecl: "a module name or a quoted path",
  primary: "a value (a number, string, name, call, list or parenthesised expression)",
};

export class ArchParser extends chevrotain.CstParser {
  constructor(validate = false) {
    super(T.ALL_TOKENS, {
      recoveryEnabled: true,
      maxLookahead: 2,
      errorMessageProvider: messages,
      // grammar validation is slow at start-up; the tests construct a validated parser instead
      skipValidations: !validate,
    });
    this.performSelfAnalysis();
  }

  program = this.RULE("program", () => {
    this.MANY(() => this.SUBRULE(this.declaration));
  });

  declaration = this.RULE("declaration", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importDecl) },
      { ALT: () => this.SUBRULE(this.blockDecl) },
      { ALT: () => this.SUBRULE(this.modelDecl) },
      { ALT: () => this.SUBRULE(this.trainDecl) },
      { ALT: () => this.SUBRULE(this.ablationDecl) },
    ]);
  });

  importDecl = this.RULE("importDecl", () => {
    this.CONSUME(T.Import);
    this.OR([{ ALT: () => this.SUBRULE(this.moduleName) }, { ALT: () => this.CONSUME(T.StringLiteral) }]);
  });

  moduleName = this.RULE("moduleName", () => {
    this.CONSUME(T.Identifier);
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.CONSUME2(T.Identifier);
    });
  });

  blockDecl = this.RULE("blockDecl", () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.parameters));
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.sublayer));
    this.CONSUME(T.RBrace);
  });

  parameters = this.RULE("parameters", () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.parameter) });
    this.CONSUME(T.RParen);
  });

  parameter = this.RULE("parameter", () => {
    this.CONSUME(T.Name);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression);
    });
  });

  sublayer = this.RULE("sublayer", () => {
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.arguments);
  });

  modelDecl = this.RULE("modelDecl", () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Extends);
      this.CONSUME2(T.Identifier);
    });
    this.SUBRULE(this.fieldBody);
  });

  trainDecl = this.RULE("trainDecl", () => {
    this.CONSUME(T.Train);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.fieldBody);
  });

  ablationDecl = this.RULE("ablationDecl", () => {
    this.CONSUME(T.Ablation);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Of);
    this.CONSUME2(T.Identifier);
    this.SUBRULE(this.fieldBody);
  });

  fieldBody = this.RULE("fieldBody", () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.field));
    this.CONSUME(T.RBrace);
  });

  field = this.RULE("field", () => {
    this.CONSUME(T.Name);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expression);
  });

  expression = this.RULE("expression", () => {
    this.SUBRULE(this.term);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      this.SUBRULE2(this.term);
    });
  });

  term = this.RULE("term", () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.Slash) },
        { ALT: () => this.CONSUME(T.Percent) },
      ]);
      this.SUBRULE2(this.unary);
    });
  });

  unary = this.RULE("unary", () => {
    this.MANY(() => this.CONSUME(T.Minus));
    this.SUBRULE(this.primary);
  });

  primary = this.RULE("primary", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLiteral) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.SUBRULE(this.reference) },
      { ALT: () => this.SUBRULE(this.list) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expression);
          this.CONSUME(T.RParen);
        },
      },
    ]);
  });

  reference = this.RULE("reference", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => this.SUBRULE(this.arguments));
  });

  arguments = this.RULE("arguments", () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.argument) });
    this.CONSUME(T.RParen);
  });

  argument = this.RULE("argument", () => {
    this.OPTION(() => {
      this.CONSUME(T.Name);
      this.CONSUME(T.Equals);
    });
    this.SUBRULE(this.expression);
  });

  list = this.RULE("list", () => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
    this.CONSUME(T.RBracket);
  });
}

let shared: ArchParser | undefined;

/** One parser for the process: construction analyses the grammar, which costs start-up time. */
export function archParser(): ArchParser {
  shared ??= new ArchParser();
  return shared;
}

export type { CstNode };
