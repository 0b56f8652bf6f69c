// Option values such as `rmsnorm(eps = 1e-6)`, `rope`, `attn(block = 8)` or `adamw(lr = 3e-4)`:
// a kind from a fixed set, written bare or called with named or positional arguments.

import { suggestionHint } from "../diagnostics/diagnostic.js";
import type { SourceSpan } from "../../format/spec.js";
import type { CheckContext } from "./context.js";
import { Reader } from "./read.js";
import { closestName } from "./suggest.js";
import type { CallArgument, Value } from "./values.js";

export interface Option {
  kind: string;
  span: SourceSpan;
  /** the given arguments by parameter name */
  args: Map<string, Value>;
}

/** Each kind's parameter names, in positional order. */
export type OptionKinds = Record<string, readonly string[]>;

export function bindArguments(
  ctx: CheckContext,
  callee: string,
  params: readonly string[],
  args: CallArgument[],
): Map<string, Value> {
  const bound = new Map<string, Value>();
  let sawNamed = false;
  args.forEach((arg, position) => {
    if (arg.name === undefined) {
      if (sawNamed) {
        ctx.report("A0217", arg.span);
        return;
      }
      if (position >= params.length) {
        if (params.length === 0) ctx.report("A0406", arg.span, { name: callee });
        else ctx.report("A0216", arg.span, { callee, count: params.length });
        return;
      }
      bound.set(params[position], arg.value);
      return;
    }
    sawNamed = true;
    const nameSpan = arg.nameSpan ?? arg.span;
    if (!params.includes(arg.name)) {
      if (params.length === 0) ctx.report("A0406", arg.span, { name: callee });
      else
        ctx.report("A0205", nameSpan, {
          name: arg.name,
          callee,
          hint: suggestionHint(closestName(arg.name, params)),
        });
      return;
    }
    if (bound.has(arg.name)) {
      ctx.report("A0208", nameSpan, { name: arg.name });
      return;
    }
    bound.set(arg.name, arg.value);
  });
  return bound;
}

export function readOption(
  ctx: CheckContext,
  value: Value,
  what: string,
  kinds: OptionKinds,
): Option | undefined {
  const reader = new Reader(ctx);
  const names = Object.keys(kinds);
  if (value.kind === "symbol") {
    if (Object.hasOwn(kinds, value.name)) return { kind: value.name, span: value.span, args: new Map() };
    reader.unknownChoice(value.name, value.span, what, names);
    return undefined;
  }
  if (value.kind === "call") {
    if (!Object.hasOwn(kinds, value.name)) {
      reader.unknownChoice(value.name, value.nameSpan, what, names);
      return undefined;
    }
    return {
      kind: value.name,
      span: value.span,
      args: bindArguments(ctx, value.name, kinds[value.name], value.args),
    };
  }
  reader.choice(value, what, names);
  return undefined;
}
