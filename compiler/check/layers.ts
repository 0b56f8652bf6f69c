// Expanding a `layers:` stack into LayerSpecs: binding each block call's arguments to the
// block's parameters, then reading the block body's primitive sublayers in that scope.

import { suggestionHint } from "../diagnostics/diagnostic.js";
import type { LayerSpec, SourceSpan, SublayerSpec } from "../../format/spec.js";
import type { Sublayer } from "../syntax/ast.js";
import type { BlockDecl, CheckContext } from "./context.js";
import { Evaluator, isPrimitiveSublayer, type Scope } from "./evaluate.js";
import { bindArguments } from "./options.js";
import { Reader } from "./read.js";
import { closestName } from "./suggest.js";
import { describeCycle, type CallArgument, type CallValue, type Value } from "./values.js";
import { MAX_BLOCK_INSTANCES, MAX_SUBLAYERS, MAX_TENSOR_ELEMENTS } from "./limits.js";

export interface ModelShape {
  dim: number | undefined;
  rope: boolean;
}

const ATTENTION_PARAMS = ["heads", "kv_heads"] as const;
const MLP_PARAMS = ["kind", "hidden"] as const;

/** The parameters of one block instance: given arguments, else defaults evaluated on demand. */
class BlockScope implements Scope {
  private readonly values = new Map<string, Value>();
  private readonly evaluating = new Set<string>();
  private readonly params = new Map<string, BlockDecl["params"][number]>();

  constructor(
    private readonly ctx: CheckContext,
    private readonly block: BlockDecl,
    given: Map<string, Value>,
  ) {
    for (const [name, value] of given) this.values.set(name, value);
    for (const param of block.params)
      if (!this.params.has(param.name.name)) this.params.set(param.name.name, param);
  }

  lookup(name: string, at: SourceSpan): Value | undefined {
    const known = this.values.get(name);
    if (known) return known;
    const param = this.params.get(name);
    if (!param?.defaultValue) return undefined;
    if (this.evaluating.has(name)) {
      this.ctx.report("A0213", at, { name, cycle: describeCycle([...this.evaluating, name]) });
      return { kind: "error", span: at };
    }
    if (!this.ctx.enter(at, "parameter", name)) {
      const error: Value = { kind: "error", span: at };
      for (const pending of this.evaluating) this.values.set(pending, error);
      return error;
    }
    this.evaluating.add(name);
    const value = new Evaluator(this.ctx, this).evaluate(param.defaultValue);
    this.evaluating.delete(name);
    this.ctx.leave();
    if (!this.values.has(name)) this.values.set(name, value);
    return this.values.get(name);
  }

  names(): Iterable<string> {
    return this.block.params.map((p) => p.name.name);
  }
}

export class LayerBuilder {
  private readonly reader: Reader;
  /** blocks being expanded, outermost first, to catch a block that contains itself */
  private readonly active: string[] = [];
  private readonly activeSet = new Set<string>();
  /** block instances expanded so far (MAX_BLOCK_INSTANCES) */
  private instances = 0;
  /** set once a size limit is reported: the rest of the layers is not expanded */
  private overflowed = false;

  constructor(
    private readonly ctx: CheckContext,
    private readonly shape: ModelShape,
  ) {
    this.reader = new Reader(ctx);
  }

  build(stack: Value): LayerSpec[] | undefined {
    if (stack.kind === "error") return undefined;
    if (stack.kind === "symbol" && !this.ctx.definitions.blocks.has(stack.name)) {
      this.reportUnknownBlock(stack.name, stack.span);
      return undefined;
    }
    const items =
      stack.kind === "stack"
        ? stack.items
        : stack.kind === "call"
          ? [{ call: stack, count: 1 }]
          : stack.kind === "symbol"
            ? [
                {
                  call: {
                    kind: "call",
                    name: stack.name,
                    nameSpan: stack.span,
                    args: [],
                    span: stack.span,
                  } as CallValue,
                  count: 1,
                },
              ]
            : undefined;
    if (!items) {
      this.ctx.report("A0408", stack.span, { actual: describe(stack) });
      return undefined;
    }
    const layers: LayerSpec[] = [];
    let complete = true;
    let total = 0;
    for (const item of items) {
      const sublayers = this.instantiate(item.call);
      if (this.overflowed) return undefined;
      if (!sublayers) {
        complete = false;
        continue;
      }
      total += sublayers.length * item.count;
      if (total > MAX_SUBLAYERS) {
        this.ctx.report("A0413", stack.span, { max: MAX_SUBLAYERS, what: "sublayers" });
        return undefined;
      }
      for (let i = 0; i < item.count; i++)
        layers.push({ block: item.call.name, sublayers: sublayers.map((s) => ({ ...s })) });
    }
    return complete ? layers : undefined;
  }

  private reportUnknownBlock(name: string, span: SourceSpan): void {
    if (isPrimitiveSublayer(name)) {
      this.ctx.report("A0410", span, { name });
      return;
    }
    const hint = suggestionHint(closestName(name, this.ctx.definitions.blocks.keys()));
    this.ctx.report("A0202", span, { name, hint });
  }

  /** The sublayers one call of a block produces, or undefined after reporting why not. */
  private instantiate(call: CallValue): SublayerSpec[] | undefined {
    const block = this.ctx.definitions.blocks.get(call.name);
    if (!block) {
      this.reportUnknownBlock(call.name, call.nameSpan);
      return undefined;
    }
    if (this.overflowed) return undefined;
    if (this.activeSet.has(block.name.name)) {
      this.ctx.report("A0218", call.nameSpan, {
        name: block.name.name,
        cycle: describeCycle([...this.active, block.name.name]),
      });
      return undefined;
    }
    if (++this.instances > MAX_BLOCK_INSTANCES) {
      this.ctx.report("A0413", call.nameSpan, { max: MAX_BLOCK_INSTANCES, what: "block instances" });
      this.overflowed = true;
      return undefined;
    }
    const paramNames = block.params.map((p) => p.name.name);
    const given = bindArguments(this.ctx, call.name, paramNames, call.args);
    let complete = true;
    for (const param of block.params)
      if (!given.has(param.name.name) && !param.defaultValue) {
        this.ctx.report("A0215", call.span, { name: param.name.name, callee: `block '${block.name.name}'` });
        complete = false;
      }
    if (!complete) return undefined;
    if (block.body.length === 0) {
      if (!block.recovered) this.ctx.report("A0407", block.name.span, { name: block.name.name });
      return undefined;
    }
    if (!this.ctx.enter(call.nameSpan, "block", block.name.name)) {
      this.overflowed = true;
      return undefined;
    }
    const scope = new BlockScope(this.ctx, block, given);
    const evaluator = new Evaluator(this.ctx, scope);
    this.active.push(block.name.name);
    this.activeSet.add(block.name.name);
    const sublayers: SublayerSpec[] = [];
    for (const statement of block.body) {
      const produced = this.sublayer(statement, evaluator);
      if (this.overflowed) break;
      if (!produced) complete = false;
      else if (sublayers.length + produced.length > MAX_SUBLAYERS) {
        this.ctx.report("A0413", statement.span, { max: MAX_SUBLAYERS, what: "sublayers" });
        this.overflowed = true;
      } else for (const s of produced) sublayers.push(s);
    }
    this.active.pop();
    this.activeSet.delete(block.name.name);
    this.ctx.leave();
    return complete && !this.overflowed ? sublayers : undefined;
  }

  private sublayer(statement: Sublayer, evaluator: Evaluator): SublayerSpec[] | undefined {
    const args: CallArgument[] = statement.args.map((a) => ({
      name: a.name?.name,
      nameSpan: a.name?.span,
      value: evaluator.evaluate(a.value),
      span: a.span,
    }));
    const name = statement.callee.name;
    if (name === "attention")
      return this.attention(statement, bindArguments(this.ctx, name, ATTENTION_PARAMS, args));
    if (name === "mlp") return this.mlp(statement, bindArguments(this.ctx, name, MLP_PARAMS, args));
    // another block inside a block: its sublayers are spliced in place
    const call: CallValue = {
      kind: "call",
      name,
      nameSpan: statement.callee.span,
      args,
      span: statement.span,
    };
    if (!this.ctx.definitions.blocks.has(name)) {
      const hint = suggestionHint(
        closestName(name, ["attention", "mlp", ...this.ctx.definitions.blocks.keys()]),
      );
      this.ctx.report("A0202", statement.callee.span, { name, hint });
      return undefined;
    }
    return this.instantiate(call);
  }

  private attention(statement: Sublayer, args: Map<string, Value>): SublayerSpec[] | undefined {
    const headsValue = args.get("heads");
    if (!headsValue) {
      this.ctx.report("A0215", statement.span, { name: "heads", callee: "attention" });
      return undefined;
    }
    const heads = this.reader.integer(headsValue, "heads", { min: 1 });
    const kvValue = args.get("kv_heads") ?? headsValue;
    const kvHeads = this.reader.integer(kvValue, "kv_heads", { min: 1 });
    if (heads === undefined || kvHeads === undefined) return undefined;
    if (heads % kvHeads !== 0) {
      this.ctx.report("A0402", kvValue.span, { heads, kvHeads });
      return undefined;
    }
    const { dim } = this.shape;
    if (dim === undefined) return undefined;
    if (dim % heads !== 0) {
      this.ctx.report("A0401", headsValue.span, { dim, heads });
      return undefined;
    }
    const headDim = dim / heads;
    if (this.shape.rope && headDim % 2 !== 0) {
      this.ctx.report("A0403", headsValue.span, { headDim });
      return undefined;
    }
    return [{ kind: "attention", heads, kvHeads, headDim }];
  }

  private mlp(statement: Sublayer, args: Map<string, Value>): SublayerSpec[] | undefined {
    const kindValue = args.get("kind");
    const kind = kindValue
      ? this.reader.choice(kindValue, "mlp kind", ["gelu", "swiglu"] as const)
      : "swiglu";
    const hiddenValue = args.get("hidden");
    if (!hiddenValue) {
      this.ctx.report("A0215", statement.span, { name: "hidden", callee: "mlp" });
      return undefined;
    }
    const hidden = this.reader.integer(hiddenValue, "mlp hidden size", { min: 1, max: 1 << 20 });
    if (kind === undefined || hidden === undefined) return undefined;
    const { dim } = this.shape;
    if (dim !== undefined && hidden * dim > MAX_TENSOR_ELEMENTS) {
      this.ctx.report("A0411", hiddenValue.span, {
        what: `an MLP weight (hidden × dim = ${hidden} × ${dim})`,
        count: hidden * dim,
        max: MAX_TENSOR_ELEMENTS,
      });
      return undefined;
    }
    return [{ kind: "mlp", mlp: kind, hidden }];
  }
}

function describe(value: Value): string {
  return value.kind === "number" ? `the number ${value.text ?? value.value}` : value.kind;
}
