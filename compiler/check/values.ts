// What expressions evaluate to at compile time, and how values are shown in messages and in
// ModelSpec.fields.

import type { SourceSpan } from "../spec.js";
import type { Expr } from "../syntax/ast.js";

export interface CallArgument {
  name?: string;
  nameSpan?: SourceSpan;
  value: Value;
  span: SourceSpan;
}

export interface CallValue {
  kind: "call";
  name: string;
  nameSpan: SourceSpan;
  args: CallArgument[];
  span: SourceSpan;
}

/** A run of identical layers: one block call repeated `count` times. */
export interface StackItem {
  call: CallValue;
  count: number;
}

export type Value =
  | {
      kind: "number";
      value: number;
      span: SourceSpan;
      text?: string;
      inexact?: { span: SourceSpan; left: number; right: number };
    }
  | { kind: "bool"; value: boolean; span: SourceSpan }
  | { kind: "string"; value: string; span: SourceSpan }
  /** a bare word that names nothing in scope: an option like `swiglu`, or a typo, decided by its consumer */
  | { kind: "symbol"; name: string; span: SourceSpan; scopeNames: () => Iterable<string> }
  | CallValue
  | { kind: "stack"; items: StackItem[]; span: SourceSpan }
  | { kind: "list"; items: Value[]; exprs: Expr[]; span: SourceSpan }
  /** an expression already reported as wrong: its consumers stay silent */
  | { kind: "error"; span: SourceSpan };

export type NumberValue = Extract<Value, { kind: "number" }>;

export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const short = Number(value.toPrecision(6));
  return Math.abs(short) < 1e-3 ? short.toExponential() : String(short);
}

export function printValue(value: Value): string {
  switch (value.kind) {
    case "number":
      return value.text ?? formatNumber(value.value);
    case "bool":
      return String(value.value);
    case "string":
      return JSON.stringify(value.value);
    case "symbol":
      return value.name;
    case "call":
      return `${value.name}(${value.args.map((a) => (a.name ? `${a.name}=` : "") + printValue(a.value)).join(", ")})`;
    case "stack":
      return value.items.map((item) => `${printValue(item.call)} * ${item.count}`).join(" + ");
    case "list":
      return `[${value.items.map(printValue).join(", ")}]`;
    case "error":
      return "<error>";
  }
}

/** For "must be X, got Y" messages. */
export function describeValue(value: Value): string {
  switch (value.kind) {
    case "stack":
      return `a stack of ${value.items.reduce((n, i) => n + i.count, 0)} layers`;
    case "list":
      return `a list of ${value.items.length} values`;
    case "string":
      return `the string ${printValue(value)}`;
    default:
      return `'${printValue(value)}'`;
  }
}

export function printExpr(expr: Expr): string {
  switch (expr.kind) {
    case "number":
      return expr.text;
    case "string":
      return JSON.stringify(expr.value);
    case "bool":
      return String(expr.value);
    case "name":
      return expr.name;
    case "call":
      return `${expr.callee.name}(${expr.args.map((a) => (a.name ? `${a.name.name}=` : "") + printExpr(a.value)).join(", ")})`;
    case "list":
      return `[${expr.items.map(printExpr).join(", ")}]`;
    case "negate":
      return "-".repeat(expr.count) + printExpr(expr.operand);
    case "chain":
      return [printOperand(expr.first), ...expr.rest.map((r) => ` ${r.op} ${printOperand(r.operand)}`)].join(
        "",
      );
    case "missing":
      return "?";
  }
}

function printOperand(expr: Expr): string {
  return expr.kind === "chain" ? `(${printExpr(expr)})` : printExpr(expr);
}
