// Reading evaluated values as the types a consumer needs, reporting what does not fit. Every
// reader returns undefined on failure, and stays silent on values already reported as errors.

import { suggestionHint } from "../diagnostics/diagnostic.js";
import type { SourceSpan } from "../../format/spec.js";
import type { CheckContext } from "./context.js";
import { closestName } from "./suggest.js";
import { describeValue, formatNumber, type Value } from "./values.js";

export interface NumberRange {
  /** inclusive lower bound */
  min?: number;
  /** exclusive lower bound */
  above?: number;
  /** inclusive upper bound */
  max?: number;
  /** exclusive upper bound */
  below?: number;
}

function constraintText(range: NumberRange): string {
  const parts: string[] = [];
  if (range.min !== undefined) parts.push(range.min === 1 ? "positive" : `at least ${range.min}`);
  if (range.above !== undefined) parts.push(range.above === 0 ? "positive" : `greater than ${range.above}`);
  if (range.max !== undefined) parts.push(`at most ${range.max}`);
  if (range.below !== undefined) parts.push(`less than ${range.below}`);
  return parts.join(" and ");
}

export class Reader {
  constructor(private readonly ctx: CheckContext) {}

  private notA(value: Value, what: string, expected: string): undefined {
    if (value.kind === "error") return undefined;
    if (value.kind === "symbol") {
      const hint = suggestionHint(closestName(value.name, value.scopeNames()));
      this.ctx.report("A0201", value.span, { name: value.name, hint });
      return undefined;
    }
    this.ctx.report("A0301", value.span, { what, expected, actual: describeValue(value) });
    return undefined;
  }

  number(value: Value, what: string, range: NumberRange = {}): number | undefined {
    if (value.kind !== "number") return this.notA(value, what, "a number");
    const n = value.value;
    const ok =
      (range.min === undefined || n >= range.min) &&
      (range.above === undefined || n > range.above) &&
      (range.max === undefined || n <= range.max) &&
      (range.below === undefined || n < range.below);
    if (!ok) {
      this.ctx.report("A0305", value.span, {
        what,
        constraint: constraintText(range),
        value: formatNumber(n),
      });
      return undefined;
    }
    return n;
  }

  integer(value: Value, what: string, range: NumberRange = {}): number | undefined {
    if (value.kind !== "number") return this.notA(value, what, "a whole number");
    if (!Number.isInteger(value.value)) {
      if (value.inexact) {
        const { span, left, right } = value.inexact;
        this.ctx.report("A0303", span, { left, right, what });
      } else this.ctx.report("A0302", value.span, { what, value: formatNumber(value.value) });
      return undefined;
    }
    return this.number(value, what, range);
  }

  bool(value: Value, what: string): boolean | undefined {
    if (value.kind !== "bool") return this.notA(value, what, "true or false");
    return value.value;
  }

  string(value: Value, what: string): string | undefined {
    if (value.kind !== "string") return this.notA(value, what, "a quoted string");
    return value.value;
  }

  /** A bare word from a fixed set, such as `softmax` or `sigmoid`. */
  choice<T extends string>(value: Value, what: string, choices: readonly T[]): T | undefined {
    if (value.kind === "error") return undefined;
    if (value.kind !== "symbol") {
      this.ctx.report("A0301", value.span, {
        what,
        expected: listChoices(choices),
        actual: describeValue(value),
      });
      return undefined;
    }
    if ((choices as readonly string[]).includes(value.name)) return value.name as T;
    this.unknownChoice(value.name, value.span, what, choices);
    return undefined;
  }

  unknownChoice(name: string, span: SourceSpan, what: string, choices: readonly string[]): void {
    const hint = suggestionHint(closestName(name, choices));
    this.ctx.report("A0221", span, { what, name, expected: listChoices(choices), hint });
  }
}

export function listChoices(choices: readonly string[]): string {
  if (choices.length <= 1) return choices.join("");
  return `${choices.slice(0, -1).join(", ")} or ${choices[choices.length - 1]}`;
}
