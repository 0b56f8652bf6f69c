// What expressions evaluate to at compile time, and how values are shown in messages and in
// ModelSpec.fields.

import type { SourceSpan } from "../../format/spec.js";
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

/** Longest text printValue gives: values share structure, so their full text can be exponentially long. */
export const MAX_PRINTED_VALUE = 2000;

export function printValue(value: Value, limit = MAX_PRINTED_VALUE): string {
  const out: string[] = [];
  let left = limit;
  const write = (text: string): boolean => {
    if (left <= 0) return false;
    out.push(text.length > left ? text.slice(0, left) : text);
    left -= text.length;
    return left > 0;
  };
  const visit = (v: Value): boolean => {
    switch (v.kind) {
      case "number":
        return write(v.text ?? formatNumber(v.value));
      case "bool":
        return write(String(v.value));
      case "string":
        return write(JSON.stringify(v.value));
      case "symbol":
        return write(v.name);
      case "call":
        if (!write(`${v.name}(`)) return false;
        for (let i = 0; i < v.args.length; i++) {
          const a = v.args[i];
          if (i > 0 && !write(", ")) return false;
          if (a.name && !write(`${a.name}=`)) return false;
          if (!visit(a.value)) return false;
        }
        return write(")");
      case "stack":
        for (let i = 0; i < v.items.length; i++) {
          if (i > 0 && !write(" + ")) return false;
          if (!visit(v.items[i].call) || !write(` * ${v.items[i].count}`)) return false;
        }
        return true;
      case "list":
        if (!write("[")) return false;
        for (let i = 0; i < v.items.length; i++) {
          if (i > 0 && !write(", ")) return false;
          if (!visit(v.items[i])) return false;
        }
        return write("]");
      case "error":
        return write("<error>");
    }
  };
  const complete = visit(value);
  const text = out.join("");
  return complete || text.length < limit ? text : `${text}…`;
}

/** Longest value text in a message. */
const MAX_DESCRIBED_VALUE = 400;

/** For "must be X, got Y" messages. */
export function describeValue(value: Value): string {
  switch (value.kind) {
    case "stack":
      return `a stack of ${value.items.reduce((n, i) => n + i.count, 0)} layers`;
    case "list":
      return `a list of ${value.items.length} values`;
    case "string":
      return `the string ${printValue(value, MAX_DESCRIBED_VALUE)}`;
    default:
      return `'${printValue(value, MAX_DESCRIBED_VALUE)}'`;
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

/** Past this many names a cycle is shown by its ends: a long one would bury the message. */
const MAX_CYCLE_SHOWN = 12;

/** `a → b → c → a`; a long cycle keeps its first and last names and says how many it leaves out. */
export function describeCycle(names: readonly string[]): string {
  return describeCycleOf(names.length, (i) => names[i]);
}

/** describeCycle of the `length` names `nameAt(0..length-1)`, reading only the ones it shows. */
export function describeCycleOf(length: number, nameAt: (i: number) => string): string {
  const pick = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => nameAt(from + i));
  if (length <= MAX_CYCLE_SHOWN) return pick(0, length).join(" → ");
  const half = MAX_CYCLE_SHOWN / 2;
  return [...pick(0, half), `… (${length - MAX_CYCLE_SHOWN} more) …`, ...pick(length - half, length)].join(
    " → ",
  );
}
