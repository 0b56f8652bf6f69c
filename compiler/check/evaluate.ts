// Compile-time evaluation of expressions: arithmetic over numbers, names looked up in a scope,
// calls kept as values for their consumer to interpret, and block calls combined into stacks.

import type { SourceSpan } from "../../format/spec.js";
import type { BinaryOperator, Expr } from "../syntax/ast.js";
import type { CheckContext } from "./context.js";
import { closestName } from "./suggest.js";
import { suggestionHint } from "../diagnostics/diagnostic.js";
import {
  describeValue,
  formatNumber,
  type CallValue,
  type NumberValue,
  type StackItem,
  type Value,
} from "./values.js";

export interface Scope {
  /** the value bound to `name`, or undefined when the scope has no such name */
  lookup(name: string, at: SourceSpan): Value | undefined;
  names(): Iterable<string>;
}

/** More layers than this is surely a mistake, and expanding them would only burn memory. */
export const MAX_LAYERS = 4096;

const PRIMITIVE_SUBLAYERS = new Set(["attention", "mlp"]);

function spanning(a: SourceSpan, b: SourceSpan): SourceSpan {
  return { ...a, length: Math.max(a.length, b.offset + b.length - a.offset) };
}

export class Evaluator {
  constructor(
    private readonly ctx: CheckContext,
    private readonly scope: Scope,
  ) {}

  evaluate(expr: Expr): Value {
    switch (expr.kind) {
      case "number":
        return { kind: "number", value: expr.value, text: expr.text, span: expr.span };
      case "string":
        return { kind: "string", value: expr.value, span: expr.span };
      case "bool":
        return { kind: "bool", value: expr.value, span: expr.span };
      case "missing":
        return { kind: "error", span: expr.span };
      case "name": {
        const bound = this.scope.lookup(expr.name, expr.span);
        if (bound) return bound;
        return { kind: "symbol", name: expr.name, span: expr.span, scopeNames: () => this.scope.names() };
      }
      case "call": {
        if (!this.ctx.enterNesting(expr.span)) return { kind: "error", span: expr.span };
        const value: Value = {
          kind: "call",
          name: expr.callee.name,
          nameSpan: expr.callee.span,
          span: expr.span,
          args: expr.args.map((a) => ({
            name: a.name?.name,
            nameSpan: a.name?.span,
            value: this.evaluate(a.value),
            span: a.span,
          })),
        };
        this.ctx.leaveNesting();
        return value;
      }
      case "list": {
        if (!this.ctx.enterNesting(expr.span)) return { kind: "error", span: expr.span };
        const value: Value = {
          kind: "list",
          items: expr.items.map((e) => this.evaluate(e)),
          exprs: expr.items,
          span: expr.span,
        };
        this.ctx.leaveNesting();
        return value;
      }
      case "negate": {
        const operand = this.evaluate(expr.operand);
        if (operand.kind === "error") return operand;
        if (operand.kind !== "number") return this.badOperands("-", operand, operand, expr.span);
        const sign = expr.count % 2 === 0 ? 1 : -1;
        return { kind: "number", value: sign * operand.value, span: expr.span, inexact: operand.inexact };
      }
      case "chain": {
        let left = this.evaluate(expr.first);
        for (const step of expr.rest) {
          const right = this.evaluate(step.operand);
          left = this.apply(step.op, left, right, spanning(expr.span, step.operand.span), step.opSpan);
        }
        return left;
      }
    }
  }

  private apply(op: BinaryOperator, left: Value, right: Value, span: SourceSpan, opSpan: SourceSpan): Value {
    if (left.kind === "error") return left;
    if (right.kind === "error") return right;
    for (const side of [left, right])
      if (side.kind === "symbol" && !this.isBlockName(side.name)) return this.unknownName(side);
    if (left.kind === "number" && right.kind === "number")
      return this.arithmetic(op, left, right, span, opSpan);
    const leftStack = this.asStack(left);
    const rightStack = this.asStack(right);
    if (op === "+" && leftStack && rightStack) return this.concat(leftStack, rightStack, span);
    if (op === "*" && leftStack && right.kind === "number") return this.repeat(leftStack, right, span);
    if (op === "*" && rightStack && left.kind === "number") return this.repeat(rightStack, left, span);
    return this.badOperands(op, left, right, opSpan);
  }

  private isBlockName(name: string): boolean {
    return this.ctx.definitions.blocks.has(name);
  }

  unknownName(symbol: Extract<Value, { kind: "symbol" }>): Value {
    const hint = suggestionHint(closestName(symbol.name, symbol.scopeNames()));
    this.ctx.report("A0201", symbol.span, { name: symbol.name, hint });
    return { kind: "error", span: symbol.span };
  }

  private badOperands(op: string, left: Value, right: Value, span: SourceSpan): Value {
    this.ctx.report("A0307", span, { op, left: describeValue(left), right: describeValue(right) });
    return { kind: "error", span };
  }

  private arithmetic(
    op: BinaryOperator,
    left: NumberValue,
    right: NumberValue,
    span: SourceSpan,
    opSpan: SourceSpan,
  ): Value {
    if ((op === "/" || op === "%") && right.value === 0) {
      this.ctx.report("A0304", opSpan);
      return { kind: "error", span };
    }
    let value: number;
    switch (op) {
      case "+":
        value = left.value + right.value;
        break;
      case "-":
        value = left.value - right.value;
        break;
      case "*":
        value = left.value * right.value;
        break;
      case "/":
        value = left.value / right.value;
        break;
      case "%":
        value = left.value % right.value;
        break;
    }
    const wholeOperands = Number.isInteger(left.value) && Number.isInteger(right.value);
    if (
      !Number.isFinite(value) ||
      (wholeOperands && Number.isInteger(value) && !Number.isSafeInteger(value))
    ) {
      this.ctx.report("A0306", span, {
        value: Number.isFinite(value) ? formatNumber(value) : "(beyond floating point)",
      });
      return { kind: "error", span };
    }
    let inexact = Number.isInteger(value) ? undefined : (left.inexact ?? right.inexact);
    if (op === "/" && wholeOperands && !Number.isInteger(value))
      inexact = { span, left: left.value, right: right.value };
    return { kind: "number", value, span, inexact };
  }

  /** A block call (or a bare block name) counts as a stack of one layer. */
  private asStack(value: Value): Extract<Value, { kind: "stack" }> | undefined {
    if (value.kind === "stack") return value;
    if (value.kind === "call") return { kind: "stack", items: [{ call: value, count: 1 }], span: value.span };
    if (value.kind === "symbol" && this.isBlockName(value.name)) {
      const call: CallValue = {
        kind: "call",
        name: value.name,
        nameSpan: value.span,
        args: [],
        span: value.span,
      };
      return { kind: "stack", items: [{ call, count: 1 }], span: value.span };
    }
    return undefined;
  }

  private layerCount(items: StackItem[]): number {
    return items.reduce((n, item) => n + item.count, 0);
  }

  private concat(
    left: Extract<Value, { kind: "stack" }>,
    right: Extract<Value, { kind: "stack" }>,
    span: SourceSpan,
  ): Value {
    const items = [...left.items, ...right.items];
    return this.withinLimit(items, span);
  }

  private repeat(stack: Extract<Value, { kind: "stack" }>, times: NumberValue, span: SourceSpan): Value {
    const count = times.value;
    if (!Number.isInteger(count)) {
      if (times.inexact)
        this.ctx.report("A0303", times.inexact.span, {
          left: times.inexact.left,
          right: times.inexact.right,
          what: "a layer count",
        });
      else this.ctx.report("A0302", times.span, { what: "a layer count", value: formatNumber(count) });
      return { kind: "error", span };
    }
    if (count < 1) {
      this.ctx.report("A0305", times.span, {
        what: "a layer count",
        constraint: "at least 1",
        value: formatNumber(count),
      });
      return { kind: "error", span };
    }
    const total = this.layerCount(stack.items) * count;
    if (total > MAX_LAYERS) {
      this.ctx.report("A0405", span, { count: total, max: MAX_LAYERS });
      return { kind: "error", span };
    }
    if (stack.items.length === 1)
      return {
        kind: "stack",
        items: [{ call: stack.items[0].call, count: stack.items[0].count * count }],
        span,
      };
    const items: StackItem[] = [];
    for (let i = 0; i < count; i++) items.push(...stack.items);
    return { kind: "stack", items, span };
  }

  private withinLimit(items: StackItem[], span: SourceSpan): Value {
    const total = this.layerCount(items);
    if (total > MAX_LAYERS) {
      this.ctx.report("A0405", span, { count: total, max: MAX_LAYERS });
      return { kind: "error", span };
    }
    return { kind: "stack", items, span };
  }
}

export function isPrimitiveSublayer(name: string): boolean {
  return PRIMITIVE_SUBLAYERS.has(name);
}
