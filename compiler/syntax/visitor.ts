// CST → AST. Written as plain functions over Chevrotain's CST children rather than a generated
// visitor class, because recovery can leave any child missing and every step here must cope.
// Each function takes the node type generated from the grammar (cst-types.ts, `npm run gen:cst`), and
// the accessors accept only that node's child keys: a misspelt key, or a token asked for as a node, is a
// compile error. The generated types call some children required; recovery can still drop them, so every
// accessor treats every key as possibly absent.

import type { CstElement, CstNode, IToken } from "chevrotain";
import type { SourceSpan } from "../../format/spec.js";
import type { DiagnosticSink } from "../diagnostics/diagnostic.js";
import type {
  Argument,
  BinaryOperator,
  Declaration,
  Expr,
  Field,
  Identifier,
  Parameter,
  Sublayer,
} from "./ast.js";
import type * as Cst from "./cst-types.js";
import type { SourceText } from "./source.js";

/** The child key lists of a node, each key required so that the mapped types below see every key. */
type ChildLists<N extends CstNode> = Required<N["children"]>;

/** Keys of N's children that hold sub-rule nodes. */
type NodeKey<N extends CstNode> = Extract<
  { [K in keyof ChildLists<N>]: ChildLists<N>[K] extends CstNode[] ? K : never }[keyof ChildLists<N>],
  string
>;

/** Keys of N's children that hold tokens. */
type TokenKey<N extends CstNode> = Extract<
  { [K in keyof ChildLists<N>]: ChildLists<N>[K] extends IToken[] ? K : never }[keyof ChildLists<N>],
  string
>;

/** The node type that N holds under the sub-rule key K. */
type ChildNode<N extends CstNode, K extends NodeKey<N>> = Extract<
  ChildLists<N>[K] extends (infer E)[] ? E : never,
  CstNode
>;

/** The node a `declaration` wraps: one of its alternatives. */
type DeclarationNode = ChildNode<Cst.DeclarationCstNode, NodeKey<Cst.DeclarationCstNode>>;

function isToken(element: CstElement): element is IToken {
  return (element as IToken).image !== undefined;
}

function realToken(token: IToken | undefined): token is IToken {
  return token !== undefined && token.isInsertedInRecovery !== true && Number.isFinite(token.startOffset);
}

export class AstBuilder {
  constructor(
    private readonly source: SourceText,
    private readonly sink: DiagnosticSink,
  ) {}

  private nodes<N extends CstNode, K extends NodeKey<N>>(node: N, key: K): ChildNode<N, K>[] {
    return ((node as CstNode).children[key] ?? []).filter((c): c is ChildNode<N, K> => !isToken(c));
  }

  private node<N extends CstNode, K extends NodeKey<N>>(
    node: N,
    key: K,
    index = 0,
  ): ChildNode<N, K> | undefined {
    return this.nodes(node, key)[index];
  }

  private tokens<N extends CstNode>(node: N, key: TokenKey<N>): IToken[] {
    return ((node as CstNode).children[key] ?? []).filter((c): c is IToken => isToken(c) && realToken(c));
  }

  private token<N extends CstNode>(node: N, key: TokenKey<N>, index = 0): IToken | undefined {
    return this.tokens(node, key)[index];
  }

  private tokenSpan(token: IToken): SourceSpan {
    return this.source.span(token.startOffset, token.startOffset + token.image.length);
  }

  /** [start, end) offsets of the real tokens under each node already measured; empty is [Infinity, -Infinity] */
  private readonly extents = new Map<CstNode, [number, number]>();

  /**
   * The smallest span covering every real token under `node`, found without recursion. Each node
   * is measured once (children before parents) and remembered: spans are asked for at every level
   * of a nested expression, and walking each subtree again would be quadratic in the nesting.
   */
  private nodeSpan(node: CstNode): SourceSpan {
    const [start, end] = this.extent(node);
    return start === Infinity ? this.source.endSpan() : this.source.span(start, end);
  }

  private extent(root: CstNode): [number, number] {
    const known = this.extents.get(root);
    if (known) return known;
    // post-order: a node is measured when it is popped the second time, after its children
    const nodes: CstNode[] = [root];
    const childrenDone: boolean[] = [false];
    while (nodes.length > 0) {
      const node = nodes.pop()!;
      const done = childrenDone.pop()!;
      if (this.extents.has(node)) continue;
      const groups = Object.values(node.children);
      if (!done) {
        nodes.push(node);
        childrenDone.push(true);
        for (const children of groups)
          for (const child of children)
            if (!isToken(child) && !this.extents.has(child)) {
              nodes.push(child);
              childrenDone.push(false);
            }
        continue;
      }
      let start = Infinity;
      let end = -Infinity;
      for (const children of groups)
        for (const child of children) {
          if (isToken(child)) {
            if (!realToken(child)) continue;
            if (child.startOffset < start) start = child.startOffset;
            if (child.startOffset + child.image.length > end) end = child.startOffset + child.image.length;
          } else {
            const [s, e] = this.extents.get(child)!;
            if (s < start) start = s;
            if (e > end) end = e;
          }
        }
      this.extents.set(node, [start, end]);
    }
    return this.extents.get(root)!;
  }

  private identifier(token: IToken | undefined): Identifier | undefined {
    return realToken(token) ? { name: token.image, span: this.tokenSpan(token) } : undefined;
  }

  /** `root` is the node the parser's `program` rule returned. */
  program(root: CstNode): Declaration[] {
    const declarations: Declaration[] = [];
    for (const wrapper of this.nodes(root as Cst.ProgramCstNode, "declaration")) {
      const inner = Object.values((wrapper as CstNode).children)
        .flat()
        .find((c): c is DeclarationNode => !isToken(c));
      if (!inner) continue;
      const declaration = this.declaration(inner);
      if (declaration) declarations.push(declaration);
    }
    return declarations;
  }

  private recovered(node: CstNode): boolean {
    return node.recoveredNode === true || this.containsRecovery(node);
  }

  private containsRecovery(node: CstNode): boolean {
    const pending: CstNode[] = [node];
    while (pending.length > 0) {
      const current = pending.pop()!;
      if (current.recoveredNode) return true;
      for (const children of Object.values(current.children))
        for (const child of children) {
          if (isToken(child)) {
            if (!realToken(child)) return true;
          } else pending.push(child);
        }
    }
    return false;
  }

  private declaration(node: DeclarationNode): Declaration | undefined {
    const span = this.nodeSpan(node);
    const recovered = this.recovered(node);
    switch (node.name) {
      case "importDecl": {
        const moduleNode = this.node(node, "moduleName");
        const pathToken = this.token(node, "StringLiteral");
        if (moduleNode) {
          const parts = this.tokens(moduleNode, "Identifier").map((t) => t.image);
          return { kind: "import", module: parts.join("."), span, recovered };
        }
        if (pathToken) return { kind: "import", path: this.stringValue(pathToken), span, recovered };
        return undefined;
      }
      case "blockDecl": {
        const name = this.identifier(this.token(node, "Identifier"));
        if (!name) return undefined;
        const paramsNode = this.node(node, "parameters");
        const params = paramsNode
          ? this.nodes(paramsNode, "parameter").flatMap((p) => this.parameter(p))
          : [];
        const body = this.nodes(node, "sublayer").flatMap((s) => this.sublayer(s));
        return { kind: "block", name, params, body, span, recovered };
      }
      case "modelDecl": {
        const [nameToken, parentToken] = this.tokens(node, "Identifier");
        const name = this.identifier(nameToken);
        if (!name) return undefined;
        const parent = this.identifier(parentToken);
        return { kind: "model", name, parent, fields: this.fieldBody(node), span, recovered };
      }
      case "trainDecl": {
        const name = this.identifier(this.token(node, "Identifier"));
        if (!name) return undefined;
        return { kind: "train", name, fields: this.fieldBody(node), span, recovered };
      }
      case "ablationDecl": {
        const [nameToken, baseToken] = this.tokens(node, "Identifier");
        const name = this.identifier(nameToken);
        const base = this.identifier(baseToken);
        if (!name || !base) return undefined;
        return { kind: "ablation", name, base, fields: this.fieldBody(node), span, recovered };
      }
      default:
        return undefined;
    }
  }

  private parameter(node: Cst.ParameterCstNode): Parameter[] {
    const name = this.identifier(this.token(node, "Name"));
    if (!name) return [];
    const valueNode = this.node(node, "expression");
    return [{ name, defaultValue: valueNode ? this.expression(valueNode) : undefined }];
  }

  private sublayer(node: Cst.SublayerCstNode): Sublayer[] {
    const callee = this.identifier(this.token(node, "Identifier"));
    const argsNode = this.node(node, "arguments");
    if (!callee) return [];
    return [{ callee, args: argsNode ? this.arguments(argsNode) : [], span: this.nodeSpan(node) }];
  }

  private fieldBody(node: Cst.ModelDeclCstNode | Cst.TrainDeclCstNode | Cst.AblationDeclCstNode): Field[] {
    const body = this.node(node, "fieldBody");
    if (!body) return [];
    return this.nodes(body, "field").flatMap((f) => {
      const name = this.identifier(this.token(f, "Name"));
      const valueNode = this.node(f, "expression");
      if (!name) return [];
      const value: Expr = valueNode
        ? this.expression(valueNode)
        : { kind: "missing", span: this.nodeSpan(f) };
      return [{ name, value, span: this.nodeSpan(f) }];
    });
  }

  private arguments(node: Cst.ArgumentsCstNode): Argument[] {
    return this.nodes(node, "argument").map((a) => {
      const valueNode = this.node(a, "expression");
      const span = this.nodeSpan(a);
      const value: Expr = valueNode ? this.expression(valueNode) : { kind: "missing", span };
      return { name: this.identifier(this.token(a, "Name")), value, span };
    });
  }

  private chain<N extends CstNode, K extends NodeKey<N>>(
    node: N,
    operandKey: K,
    operatorKeys: TokenKey<N>[],
    operand: (n: ChildNode<N, K>) => Expr,
  ): Expr {
    const operands = this.nodes(node, operandKey).map(operand);
    const span = this.nodeSpan(node);
    if (operands.length === 0) return { kind: "missing", span };
    if (operands.length === 1) return operands[0];
    const operators = operatorKeys
      .flatMap((k) => this.tokens(node, k))
      .sort((a, b) => a.startOffset - b.startOffset);
    if (operators.length !== operands.length - 1) return { kind: "missing", span };
    const rest = operators.map((op, i) => ({
      op: op.image as BinaryOperator,
      opSpan: this.tokenSpan(op),
      operand: operands[i + 1],
    }));
    return { kind: "chain", first: operands[0], rest, span };
  }

  expression(node: Cst.ExpressionCstNode): Expr {
    return this.chain(node, "term", ["Plus", "Minus"], (term) =>
      this.chain(term, "unary", ["Star", "Slash", "Percent"], (unary) => this.unary(unary)),
    );
  }

  private unary(node: Cst.UnaryCstNode): Expr {
    const span = this.nodeSpan(node);
    const primaryNode = this.node(node, "primary");
    const operand: Expr = primaryNode ? this.primary(primaryNode) : { kind: "missing", span };
    const count = this.tokens(node, "Minus").length;
    return count === 0 ? operand : { kind: "negate", count, operand, span };
  }

  private primary(node: Cst.PrimaryCstNode): Expr {
    const span = this.nodeSpan(node);
    const numberToken = this.token(node, "NumberLiteral");
    if (numberToken) return this.number(numberToken, span);
    const stringToken = this.token(node, "StringLiteral");
    if (stringToken) return { kind: "string", value: this.stringValue(stringToken), span };
    if (this.token(node, "True")) return { kind: "bool", value: true, span };
    if (this.token(node, "False")) return { kind: "bool", value: false, span };
    const referenceNode = this.node(node, "reference");
    if (referenceNode) {
      const callee = this.identifier(this.token(referenceNode, "Identifier"));
      if (!callee) return { kind: "missing", span };
      const argsNode = this.node(referenceNode, "arguments");
      if (!argsNode) return { kind: "name", name: callee.name, span };
      return { kind: "call", callee, args: this.arguments(argsNode), span };
    }
    const listNode = this.node(node, "list");
    if (listNode)
      return { kind: "list", items: this.nodes(listNode, "expression").map((e) => this.expression(e)), span };
    const inner = this.node(node, "expression");
    if (inner) return this.expression(inner);
    return { kind: "missing", span };
  }

  private number(token: IToken, span: SourceSpan): Expr {
    const text = token.image;
    const value = Number(text);
    const isIntegerLiteral = /^\d+$/.test(text);
    if (!Number.isFinite(value) || (isIntegerLiteral && !Number.isSafeInteger(value))) {
      this.sink.report("A0104", span, { text });
      return { kind: "missing", span };
    }
    return { kind: "number", text, value, span };
  }

  private stringValue(token: IToken): string {
    const body = token.image.slice(1, -1);
    return body.replace(/\\(.)/g, (whole, char: string, index: number) => {
      const escapes: Record<string, string> = { "\\": "\\", '"': '"', n: "\n", t: "\t" };
      if (char in escapes) return escapes[char];
      const start = token.startOffset + 1 + index;
      this.sink.report("A0109", this.source.span(start, start + 2), { text: whole });
      return char;
    });
  }
}
