// The AttnRes depth aggregation of one sublayer (or of the final output), with its parameters in
// scope "<current>.res": a zero pseudo-query, a key-norm gain, or static logits, per the spec's
// switches; with heads > 1 each head attends over its own slice of D with its own query; with the
// gate, the result is blended with the plain residual sum by a learned scalar from 0.

import { ATTNRES_DEFAULTS, type ResidualSpec } from "../../../format/spec.js";
import type { LowerContext } from "./sublayers.js";

export type AttnResSpec = Extract<ResidualSpec, { kind: "attn" }>;

/**
 * The sources one aggregation reads. `plain` is their plain sum (the standard residual stream),
 * kept only for gated AttnRes.
 */
export interface AggregationInput {
  sources: number[];
  plain?: number;
}

export class AttnResLowering {
  private readonly headViews = new Map<number, number>();
  readonly heads: number;

  constructor(
    private readonly ctx: LowerContext,
    readonly res: AttnResSpec,
  ) {
    this.heads = res.heads ?? ATTNRES_DEFAULTS.heads;
  }

  get gated(): boolean {
    return this.res.gate === true;
  }

  /** the running plain residual sum after `out` is added (only tracked when gated) */
  addToPlain(plain: number | undefined, out: number): number | undefined {
    return plain === undefined ? undefined : this.ctx.b.op("add", [plain, out]);
  }

  /** a source seen per head: [..., D] as [..., H, D/H], a view with no kernel, made once per source */
  private perHead(source: number): number {
    if (this.heads === 1) return source;
    let view = this.headViews.get(source);
    if (view === undefined) {
      const shape = this.ctx.b.graph.nodes[source].type.shape;
      const d = shape[shape.length - 1];
      view = this.ctx.b.op("reshape", [source], {
        shape: [...shape.slice(0, -1), this.heads, d / this.heads],
      });
      this.headViews.set(source, view);
    }
    return view;
  }

  aggregate({ sources, plain }: AggregationInput): number {
    const { b } = this.ctx;
    return b.scoped("res", () => {
      const attended = this.attend(sources);
      if (!this.gated || plain === undefined) return attended;
      // h = plain + a (attn - plain), a learned scalar from 0: training starts from the plain residual
      const gate = b.param("gate", [1], { kind: "zeros" }, { decay: false, group: "attnres" });
      return b.op("blend", [plain, attended, gate]);
    });
  }

  private attend(sources: number[]): number {
    const { b, model } = this.ctx;
    const { res } = this;
    const d = model.dim;
    const count = sources.length;
    if (res.weights === "static") {
      const logits = b.param("logits", [count], { kind: "zeros" }, { decay: false, group: "attnres" });
      return b.op("attnres_static", [...sources, logits], { sources: count, score: res.score });
    }
    const h = this.heads;
    const perHead = h === 1 ? [d] : [h, d / h];
    let query: number;
    if (res.query === "projected") {
      // the query depends on the input through the most recent source
      const proj = b.param("proj", [d, d], { kind: "zeros" }, { decay: true, group: "attnres" });
      query = this.perHead(b.op("matmul", [sources[count - 1], proj], { ta: false, tb: false }));
    } else {
      query = b.param("query", perHead, { kind: "zeros" }, { decay: false, group: "attnres" });
    }
    const operands = [...sources.map((s) => this.perHead(s)), query];
    if (res.keyNorm)
      operands.push(b.param("key_gain", perHead, { kind: "ones" }, { decay: false, group: "attnres" }));
    const out = b.op("attnres", operands, {
      sources: count,
      score: res.score,
      key_norm: res.keyNorm,
      eps: res.eps ?? ATTNRES_DEFAULTS.eps,
    });
    if (h === 1) return out;
    const shape = b.graph.nodes[sources[0]].type.shape;
    return b.op("reshape", [out], { shape: [...shape] });
  }
}
