// The abstract syntax of a .arch file. Binary operators at one precedence level are kept as a
// flat chain (first operand, then operator/operand pairs) and prefix minus as a count, so that
// long sums or many minus signs never become deep trees that recursive code would overflow on.

import type { SourceSpan } from "../../format/spec.js";

export interface Identifier {
  name: string;
  span: SourceSpan;
}

export type BinaryOperator = "+" | "-" | "*" | "/" | "%";

export interface Argument {
  name?: Identifier;
  value: Expr;
  span: SourceSpan;
}

export type Expr =
  | { kind: "number"; text: string; value: number; span: SourceSpan }
  | { kind: "string"; value: string; span: SourceSpan }
  | { kind: "bool"; value: boolean; span: SourceSpan }
  | { kind: "name"; name: string; span: SourceSpan }
  | { kind: "call"; callee: Identifier; args: Argument[]; span: SourceSpan }
  | { kind: "list"; items: Expr[]; span: SourceSpan }
  | { kind: "negate"; count: number; operand: Expr; span: SourceSpan }
  | {
      kind: "chain";
      first: Expr;
      rest: { op: BinaryOperator; opSpan: SourceSpan; operand: Expr }[];
      span: SourceSpan;
    }
  /** what recovery left where an expression should be; evaluates silently to an error value */
  | { kind: "missing"; span: SourceSpan };

export interface Field {
  name: Identifier;
  value: Expr;
  span: SourceSpan;
}

export interface Parameter {
  name: Identifier;
  defaultValue?: Expr;
}

export interface Sublayer {
  callee: Identifier;
  args: Argument[];
  span: SourceSpan;
}

/** `recovered` marks a declaration that the parser had to repair: its gaps are not reported twice. */
export type Declaration =
  | { kind: "import"; module?: string; path?: string; span: SourceSpan; recovered: boolean }
  | {
      kind: "block";
      name: Identifier;
      params: Parameter[];
      body: Sublayer[];
      span: SourceSpan;
      recovered: boolean;
    }
  | {
      kind: "model";
      name: Identifier;
      parent?: Identifier;
      fields: Field[];
      span: SourceSpan;
      recovered: boolean;
    }
  | { kind: "train"; name: Identifier; fields: Field[]; span: SourceSpan; recovered: boolean }
  | {
      kind: "ablation";
      name: Identifier;
      base: Identifier;
      fields: Field[];
      span: SourceSpan;
      recovered: boolean;
    };

export interface FileAst {
  file: string;
  declarations: Declaration[];
}
