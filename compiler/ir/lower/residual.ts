// How sublayer outputs are combined along depth: the standard residual sum, Full AttnRes (every
// sublayer attends over all earlier outputs) and Block AttnRes (it attends over block sums).
// Each returns the value the final norm reads.

import { blockSizes } from "../../../format/spec.js";
import type { SublayerSpec } from "../../../format/spec.js";
import type { AttnResSpec } from "./aggregate.js";
import { lowerAggregation } from "./aggregate.js";
import type { LowerContext } from "./sublayers.js";
import { lowerSublayerBranch } from "./sublayers.js";

export interface NamedSublayer {
  layer: number;
  /** "layers.<i>.<attn|mlp>[k]": the sublayer's scope and parameter prefix */
  scope: string;
  spec: SublayerSpec;
}

/** names sublayers "attn"/"mlp", suffixing repeats of a kind within one layer: "mlp1", "mlp2" */
export function nameSublayers(ctx: LowerContext): NamedSublayer[] {
  const named: NamedSublayer[] = [];
  ctx.model.layers.forEach((layer, li) => {
    const seen = new Map<string, number>();
    for (const spec of layer.sublayers) {
      const kind = spec.kind === "attention" ? "attn" : "mlp";
      const repeat = seen.get(kind) ?? 0;
      seen.set(kind, repeat + 1);
      named.push({ layer: li, scope: `layers.${li}.${kind}${repeat === 0 ? "" : repeat}`, spec });
    }
  });
  return named;
}

export function lowerAddResidual(ctx: LowerContext, x0: number, sublayers: NamedSublayer[]): number {
  let h = x0;
  for (const s of sublayers)
    h = ctx.b.scoped(s.scope, () => ctx.b.op("add", [h, lowerSublayerBranch(ctx, h, s.spec)]));
  return h;
}

export function lowerFullAttnRes(
  ctx: LowerContext,
  res: AttnResSpec,
  x0: number,
  sublayers: NamedSublayer[],
): number {
  const sources = [x0];
  for (const s of sublayers)
    ctx.b.scoped(s.scope, () => {
      const h = lowerAggregation(ctx, res, sources);
      sources.push(lowerSublayerBranch(ctx, h, s.spec));
    });
  return ctx.b.scoped("final", () => lowerAggregation(ctx, res, sources));
}

export function lowerBlockAttnRes(
  ctx: LowerContext,
  res: AttnResSpec & { blocks: number },
  x0: number,
  sublayers: NamedSublayer[],
): number {
  const sizes = blockSizes(ctx.model.layers.length, res.blocks);
  // the layer index at which each block ends (exclusive)
  const blockEnds = sizes.map((_, n) => sizes.slice(0, n + 1).reduce((a, b) => a + b, 0));
  const completed = [x0];
  let partial: number | undefined;
  let block = 0;
  const closeBlocksBefore = (layer: number) => {
    while (block < blockEnds.length && layer >= blockEnds[block]) {
      // a block with no sublayers contributes nothing rather than a zero source
      if (partial !== undefined) completed.push(partial);
      partial = undefined;
      block++;
    }
  };
  for (const s of sublayers) {
    closeBlocksBefore(s.layer);
    ctx.b.scoped(s.scope, () => {
      const sources = partial === undefined ? [...completed] : [...completed, partial];
      const out = lowerSublayerBranch(ctx, lowerAggregation(ctx, res, sources), s.spec);
      partial = partial === undefined ? out : ctx.b.op("add", [partial, out]);
    });
  }
  closeBlocksBefore(ctx.model.layers.length);
  return ctx.b.scoped("final", () => lowerAggregation(ctx, res, completed));
}
